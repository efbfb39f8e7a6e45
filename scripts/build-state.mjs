// Is out/ the build of this checkout? `npm run build` (scripts/build-app.mjs) writes
// out/build-manifest.json with a SHA-256 over every input of the CLI bundle and the app: the
// sources, the resources, the build configs and the lockfile (the packages bundled in). `npm test`
// skips its build when the manifest matches and every output it uses is there (a fresh clone after
// `npm ci`, whose `prepare` has just built); anything else — an edit, a new or removed file, a
// changed lockfile, a missing output — and it builds.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUILD_MANIFEST = join('out', 'build-manifest.json');

/** Folders whose every file is an input, and single input files (relative to the repository). */
export const INPUT_DIRS = ['src-main', 'src-renderer', 'resources', 'bin'];
export const INPUT_FILES = [
  'package.json',
  'package-lock.json',
  'electron.vite.config.ts',
  'svelte.config.js',
  'tsconfig.json',
  'tsconfig.node.json',
  'tsconfig.web.json',
  'scripts/build-app.mjs',
  'scripts/build-cli.mjs',
  'scripts/build-state.mjs',
];
/** What the tests use of the build: the CLI the smoke tests spawn and the app Playwright serves. */
export const OUTPUTS = ['out/cli/main.js', 'out/main/index.js', 'out/preload/preload.cjs', 'out/renderer/index.html'];

/**
 * Every input file, relative and sorted.
 * @param {string} root
 * @returns {string[]}
 */
export function inputFiles(root) {
  /** @type {string[]} */
  const out = [];
  /** @param {string} rel */
  const walk = (rel) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (e.isFile()) out.push(child);
    }
  };
  for (const d of INPUT_DIRS) if (existsSync(join(root, d))) walk(d);
  for (const f of INPUT_FILES) if (existsSync(join(root, f))) out.push(f);
  return out.sort();
}

/**
 * One SHA-256 (hex) over every input's path and bytes.
 * @param {string} root
 * @returns {string}
 */
export function inputsDigest(root) {
  const h = createHash('sha256');
  for (const rel of inputFiles(root)) {
    h.update(rel).update('\0');
    h.update(
      createHash('sha256')
        .update(readFileSync(join(root, rel)))
        .digest('hex'),
    ).update('\n');
  }
  return h.digest('hex');
}

/**
 * @param {string} root
 * @param {string} digest inputsDigest(root), taken before the build started
 */
export function writeBuildManifest(root, digest) {
  writeFileSync(join(root, BUILD_MANIFEST), JSON.stringify({ digest }, null, 2) + '\n');
}

/**
 * { fresh: true } when out/ was built from exactly these inputs; otherwise { fresh: false, why }.
 * @param {string} root
 * @returns {{ fresh: true } | { fresh: false, why: string }}
 */
export function buildState(root) {
  const file = join(root, BUILD_MANIFEST);
  if (!existsSync(file)) return { fresh: false, why: `no ${BUILD_MANIFEST}` };
  let digest;
  try {
    digest = JSON.parse(readFileSync(file, 'utf8')).digest;
  } catch {
    return { fresh: false, why: `${BUILD_MANIFEST} is unreadable` };
  }
  for (const o of OUTPUTS) if (!existsSync(join(root, o))) return { fresh: false, why: `${o} is missing` };
  if (digest !== inputsDigest(root)) return { fresh: false, why: 'the sources changed since the last build' };
  return { fresh: true };
}
