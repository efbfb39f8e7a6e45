// The architecture, as rules over the import graph (`npm run lint:layers`). Each rule says which
// imports are forbidden and why; a violation fails `npm run lint` with the rule's name and the
// offending import. Issue 11: broker/ and server/losant-api/ import no service/ module; they see
// the application through the types of shared/ports.ts. To tighten a boundary, add a forbidden rule.
//
// Folders of src-main/:
//   core/       pure domain logic: no I/O, no framework, nothing of ours outside core/
//   shared/     small utilities used by more than one layer (errors, typed emitter, throttle,
//               atomic file write); depends on nothing of ours but core/ and shared/
//   store/      persistence (lowdb)            broker/     the MQTT broker (aedes)
//   service/    the application service         simulator/  simulated devices (mqtt.js)
//   server/     headless HTTP/WebSocket server  cli/        the `keyport` command
//   shell/      the Electron shell              contract.ts the UI/CLI <-> backend contract

/** Modules that do I/O or tie code to a runtime; core/ must not import them. */
const IMPURE = [
  '^(node:)?(fs|fs/promises|net|tls|http|https|http2|dgram|child_process|cluster|worker_threads|os|readline|process)$',
  '^(electron|aedes|lowdb|lowdb/node|ws|mqtt|selfsigned)(/|$)',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles at all: a cycle makes load order matter and hides a missing seam.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment: 'No cycles between folders: each folder is a layer that depends one way only.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'core/ is the pure domain: it imports nothing of ours outside core/.',
      from: { path: '^src-main/core/' },
      to: { path: '^(src-main|src-renderer|test|bench|bin|scripts)/', pathNot: '^src-main/core/' },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'core/ does no I/O and uses no framework (no fs/net/electron/aedes/lowdb/ws/mqtt).',
      from: { path: '^src-main/core/' },
      to: { path: IMPURE },
    },
    {
      name: 'shared-imports-only-shared-and-core',
      severity: 'error',
      comment: 'shared/ holds utilities every layer may use, so it may use none of the layers.',
      from: { path: '^src-main/shared/' },
      to: { path: '^(src-main|src-renderer)/', pathNot: '^src-main/(shared|core)/' },
    },
    {
      name: 'renderer-only-contract-and-core',
      severity: 'error',
      comment:
        'The UI talks to the backend only through the contract: it may import src-main/contract.ts ' +
        "and core's pure helpers, nothing else of src-main.",
      from: { path: '^src-renderer/' },
      to: { path: '^src-main/', pathNot: '^src-main/(contract\\.ts$|core/)' },
    },
    {
      name: 'renderer-contract-types-only',
      severity: 'error',
      comment: 'The renderer takes only types from contract.ts (import type), never backend code.',
      from: { path: '^src-renderer/' },
      to: { path: '^src-main/contract\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'renderer-no-node',
      severity: 'error',
      comment: 'The renderer runs in a browser: no Node built-ins or backend packages.',
      from: { path: '^src-renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'contract-is-types',
      severity: 'error',
      comment: 'contract.ts declares shapes; it may take types from core/ and simulator/types.ts only.',
      from: { path: '^src-main/contract\\.ts$' },
      to: { path: '^src-main/', pathNot: '^src-main/(core/|simulator/types\\.ts$)' },
    },
    {
      name: 'broker-not-to-service',
      severity: 'error',
      comment:
        'The broker sees the application through the narrow ports of shared/ports.ts (auth port, ' +
        'decision sink, status sink, telemetry), never the service.',
      from: { path: '^src-main/broker/' },
      to: { path: '^src-main/service/' },
    },
    {
      name: 'losant-api-not-to-service',
      severity: 'error',
      comment:
        'The Losant HTTP API sees the application through the ports of shared/ports.ts (types ' +
        'only), never a service module: service.ts builds the ports and the runtime hands them in.',
      from: { path: '^src-main/server/losant-api/' },
      to: { path: '^src-main/service/' },
    },
    {
      name: 'ports-are-types',
      severity: 'error',
      comment: 'shared/ports.ts declares the ports; it takes types only, so it never pulls in code.',
      from: { path: '^src-main/shared/ports\\.ts$' },
      to: { dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'broker-not-to-outer-layers',
      severity: 'error',
      comment: 'The broker is below service, server, cli, shell and simulator.',
      from: { path: '^src-main/broker/' },
      to: { path: '^src-main/(server|cli|shell|simulator)/' },
    },
    {
      name: 'simulator-not-to-store-or-broker',
      severity: 'error',
      comment:
        'Simulated devices are MQTT clients like any other: they reach the broker over the ' +
        'network and never touch the store or the broker internals.',
      from: { path: '^src-main/simulator/' },
      to: { path: '^src-main/(store|broker)/' },
    },
    {
      name: 'simulator-not-to-outer-layers',
      severity: 'error',
      comment: 'The simulator is used by service, server and cli; it imports none of them.',
      from: { path: '^src-main/simulator/' },
      to: { path: '^src-main/(service|server|cli|shell)/' },
    },
    {
      name: 'store-not-to-upper-layers',
      severity: 'error',
      comment: 'The store persists records; it knows nothing of who uses it.',
      from: { path: '^src-main/store/' },
      to: { path: '^src-main/(broker|service|simulator|server|cli|shell)/' },
    },
    {
      name: 'service-not-to-entry-points',
      severity: 'error',
      comment: 'The service is driven by server, cli and shell; it imports none of them.',
      from: { path: '^src-main/service/' },
      to: { path: '^src-main/(server|cli|shell)/' },
    },
    {
      name: 'electron-only-in-shell',
      severity: 'error',
      comment: 'Only the Electron shell (shell/, index.ts, preload.ts) may import electron.',
      from: { pathNot: '^(src-main/(shell/|index\\.ts$|preload\\.ts$)|test/|electron\\.vite\\.config\\.ts$)' },
      to: { path: '^electron(/|$)' },
    },
    {
      name: 'src-not-to-test',
      severity: 'error',
      comment: 'Production code never imports test code.',
      from: { path: '^(src-main|src-renderer)/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'src-not-to-dev-dep',
      severity: 'error',
      comment:
        'Code that ships may use only "dependencies" (electron and type-only imports excepted: ' +
        'Electron provides itself at run time).',
      from: { path: '^src-main/', pathNot: '^src-main/(shell/|index\\.ts$|preload\\.ts$)' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['^out/', '^node_modules/'] },
    // Type-only imports count: a type import across a boundary couples the layers just the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.node.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.svelte', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    cache: { folder: 'node_modules/.cache/dependency-cruiser', strategy: 'content' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
