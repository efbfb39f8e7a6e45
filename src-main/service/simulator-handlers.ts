// The contract's simulator.* methods: request checks (TypeBox schemas; every error names its field) and the calls
// into the simulator, which exists only where the broker runs in this process (runtime.ts).
import type { FleetRequest, SimAddRequest } from '../contract.ts';
import { parseIp } from '../core/addresses.ts';
import { ID_PATTERN } from '../core/ids.ts';
import { TagList } from '../core/schemas/device-schemas.ts';
import { schemaErrors } from '../core/schemas/schema-errors.ts';
import { MAX_FLEET } from '../simulator/fleets.ts';
import { runScenario, scenarioInfo } from '../simulator/scenarios.ts';
import type { AddRequest, Simulator } from '../simulator/simulator.ts';
import { SCENARIOS, type ScenarioName, type SimTransport } from '../simulator/types.ts';
import { BehaviourSchema } from '../core/schemas/behaviour-schema.ts';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ServiceError, validationError } from '../shared/errors.ts';
import { isPlainObject } from '../core/plain-object.ts';

const bad = (field: string, rule: string): ServiceError => validationError([{ field, message: `${field}: ${rule}` }]);
const URL_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'];

export function needSimulator(sim: Simulator | undefined): Simulator {
  if (!sim)
    throw new ServiceError(
      'unavailable',
      'the simulator runs next to the broker: use it in the desktop app or through `keyport serve`',
    );
  return sim;
}

const IdRequest = (what: string) =>
  Type.Object({
    id: Type.String({
      pattern: ID_PATTERN.source,
      errorMessage: `{path}: must be a ${what} id (24 lowercase hex characters), got {value}`,
    }),
  });
const SIM_ID = IdRequest('simulation');
const FLEET_ID = IdRequest('fleet');

export function simId(req: unknown, what: 'simulation' | 'fleet' = 'simulation'): string {
  return checked(what === 'fleet' ? FLEET_ID : SIM_ID, req).id;
}

/** TCP: a loopback IPv4 address to bind (127.x.y.z); WS: an X-Forwarded-For value to send. */
export function checkSourceAddress(v: unknown, transport: SimTransport): string {
  if (typeof v !== 'string' || v.length < 1 || v.length > 255)
    throw bad('sourceAddress', 'must be a string of 1-255 characters');
  if (transport === 'tcp') {
    const ip = parseIp(v);
    if (!ip || ip.kind() !== 'ipv4' || ip.range() !== 'loopback')
      throw bad(
        'sourceAddress',
        `over TCP must be a local 127.x.y.z address to connect from (got ${JSON.stringify(v)})`,
      );
    return ip.toString();
  }
  if (!/^[\x20-\x7e]+$/.test(v))
    throw bad('sourceAddress', 'must be printable ASCII (it is sent as the X-Forwarded-For header)');
  return v;
}

export function checkUrl(v: unknown): string {
  let url: URL;
  try {
    url = new URL(String(v));
  } catch {
    throw bad('url', `must be a broker URL such as mqtt://host:1883 or ws://host:8083/mqtt (got ${JSON.stringify(v)})`);
  }
  if (typeof v !== 'string' || !URL_SCHEMES.includes(url.protocol))
    throw bad('url', `must start with ${URL_SCHEMES.map((s) => `${s}//`).join(', ')} (got ${JSON.stringify(v)})`);
  return v;
}

const Transport = Type.Union([Type.Literal('tcp'), Type.Literal('ws')], {
  errorMessage: '{path}: must be tcp or ws (got {value})',
});

/** The credentials' text has a non-blank character (what the simulator trims and uses). */
const Secretish = (min: number, max: number, rule: string) =>
  Type.String({ minLength: min, maxLength: max, pattern: '\\S', errorMessage: `{path}: ${rule}` });

/** How a simulated device gets its credentials; other fields are ignored, as before. */
const Credentials = Type.Union(
  [
    Type.Object({ mode: Type.Literal('generate') }),
    Type.Object({
      mode: Type.Literal('paste'),
      key: Secretish(1, 255, 'must be the access key (1-255 characters)'),
      secret: Secretish(1, 1024, 'must be the access secret (1-1024 characters)'),
    }),
    Type.Object({
      mode: Type.Literal('file'),
      content: Type.String({
        minLength: 1,
        maxLength: 65_536,
        errorMessage: '{path}: must be the text of a saved secrets file (at most 64 KiB)',
      }),
    }),
  ],
  {
    discriminator: 'mode',
    typeMessage: '{path}: must be {mode: "generate"}, {mode: "paste", key, secret} or {mode: "file", content}',
    errorMessage: '{path}: must be generate, paste or file (got {value})',
  },
);

/** simulator.add's shape; the source address and the URL have rules of their own below. */
const AddShape = Type.Object(
  {
    deviceId: Type.String({
      pattern: ID_PATTERN.source,
      errorMessage: '{path}: must be a device id (24 lowercase hex characters), got {value}',
    }),
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 255, errorMessage: '{path}: must be a string of 1-255 characters' }),
    ),
    credentials: Credentials,
    behaviour: BehaviourSchema,
    transport: Transport,
    sourceAddress: Type.Optional(Type.Unknown()),
    start: Type.Optional(Type.Boolean({ errorMessage: '{path}: must be true or false' })),
    url: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

/** simulator.createFleet's request. */
const FleetShape = Type.Object(
  {
    count: Type.Integer({
      minimum: 1,
      maximum: MAX_FLEET,
      errorMessage: `{path}: must be a whole number from 1 to ${MAX_FLEET}`,
    }),
    namePrefix: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, errorMessage: '{path}: must be a string of 1-200 characters' }),
    ),
    tags: Type.Optional(TagList(999)), // one more is the fleet's mark (core/sim-marks.ts)
    behaviour: BehaviourSchema,
    transport: Type.Optional(Transport),
  },
  { additionalProperties: false },
);

/** Checks `req` against a request schema: the typed request, or a validation error naming each field. */
function checked<T extends TSchema>(schema: T, req: unknown): Static<T> {
  const r = isPlainObject(req) ? req : {};
  if (Value.Check(schema, r)) return r;
  throw validationError(schemaErrors(schema, r, { requiredUsesRule: true, separator: ': ' }));
}

function credentialsOf(c: Static<typeof Credentials>): SimAddRequest['credentials'] {
  if (c.mode === 'paste') return { mode: 'paste', key: c.key, secret: c.secret };
  if (c.mode === 'file') return { mode: 'file', content: c.content };
  return { mode: 'generate' };
}

export function addRequest(req: unknown): AddRequest {
  const r = checked(AddShape, req);
  const credentials = credentialsOf(r.credentials);
  return {
    deviceId: r.deviceId,
    ...(r.name !== undefined ? { name: r.name } : {}),
    credentials,
    behaviour: r.behaviour,
    transport: r.transport,
    ...(r.sourceAddress !== undefined ? { sourceAddress: checkSourceAddress(r.sourceAddress, r.transport) } : {}),
    ...(r.url !== undefined ? { url: checkUrl(r.url) } : {}),
    ...(r.start !== undefined ? { start: r.start } : {}),
  };
}

export function fleetRequest(req: unknown): FleetRequest {
  return checked(FleetShape, req);
}

const ScenarioRequest = Type.Object({
  name: Type.Union(
    SCENARIOS.map((n) => Type.Literal(n)),
    { errorMessage: `{path}: must be one of ${SCENARIOS.join(', ')} (got {value})` },
  ),
});

function scenarioName(req: unknown): ScenarioName {
  return checked(ScenarioRequest, req).name;
}

/** The simulator.* handlers, spread into dispatch.ts's table. */
export const simulatorHandlers = {
  'simulator.list': (sim: Simulator | undefined) => needSimulator(sim).list(),
  'simulator.add': (sim: Simulator | undefined, req: unknown) => needSimulator(sim).add(addRequest(req)),
  'simulator.start': (sim: Simulator | undefined, req: unknown) => needSimulator(sim).start(simId(req)),
  'simulator.stop': (sim: Simulator | undefined, req: unknown) => needSimulator(sim).stop(simId(req)),
  'simulator.report': (sim: Simulator | undefined, req: unknown) => needSimulator(sim).report(simId(req)),
  'simulator.remove': (sim: Simulator | undefined, req: unknown) => needSimulator(sim).remove(simId(req)),
  'simulator.saveCredentials': (sim: Simulator | undefined, req: unknown) =>
    needSimulator(sim).saveCredentials(simId(req)),
  'simulator.createFleet': (sim: Simulator | undefined, req: unknown) =>
    needSimulator(sim).fleets.create(fleetRequest(req)),
  'simulator.fleetStart': (sim: Simulator | undefined, req: unknown) =>
    needSimulator(sim).fleets.start(simId(req, 'fleet')),
  'simulator.fleetStop': (sim: Simulator | undefined, req: unknown) =>
    needSimulator(sim).fleets.stop(simId(req, 'fleet')),
  'simulator.fleetRemove': (sim: Simulator | undefined, req: unknown) =>
    needSimulator(sim).fleets.remove(simId(req, 'fleet')),
  'simulator.scenarios': () => scenarioInfo(),
  'simulator.runScenario': async (sim: Simulator | undefined, req: unknown) => {
    const name = scenarioName(req);
    const run = await runScenario(needSimulator(sim), name);
    return { sims: run.sims.map((s) => s.snapshot()) };
  },
  'simulator.clearScenario': (sim: Simulator | undefined, req: unknown) => {
    const name = scenarioName(req);
    const title = scenarioInfo().find((s) => s.name === name)?.title ?? name;
    return needSimulator(sim).clearScenario(name, title);
  },
} as const;
