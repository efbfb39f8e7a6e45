// The contract's simulator.* methods: request checks (every error names its field) and the calls
// into the simulator, which exists only where the broker runs in this process (runtime.ts).
import type { FleetRequest, SimAddRequest } from '../contract.ts';
import { parseIp } from '../core/addresses.ts';
import { isId } from '../core/ids.ts';
import type { FieldError, Tag } from '../core/types.ts';
import { validateTags } from '../core/validation.ts';
import { MAX_FLEET } from '../simulator/fleets.ts';
import { runScenario, scenarioInfo } from '../simulator/scenarios.ts';
import type { AddRequest, Simulator } from '../simulator/simulator.ts';
import { SCENARIOS, type ScenarioName, type SimTransport } from '../simulator/types.ts';
import { ServiceError, validationError } from '../shared/errors.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
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

export function simId(req: unknown, what = 'simulation'): string {
  const id = isObj(req) ? req.id : undefined;
  if (!isId(id)) throw bad('id', `must be a ${what} id (24 lowercase hex characters), got ${JSON.stringify(id)}`);
  return id;
}

function unknownFields(o: Obj, allowed: readonly string[]): FieldError[] {
  return Object.keys(o)
    .filter((k) => !allowed.includes(k))
    .map((k) => ({ field: k, message: `${k}: unknown field (allowed: ${allowed.join(', ')})` }));
}

function transportOf(v: unknown, field: string): SimTransport {
  if (v !== 'tcp' && v !== 'ws') throw bad(field, `must be tcp or ws (got ${JSON.stringify(v)})`);
  return v;
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

export function addRequest(req: unknown): AddRequest {
  const r = isObj(req) ? req : {};
  const errors = unknownFields(r, [
    'deviceId',
    'name',
    'credentials',
    'behaviour',
    'transport',
    'sourceAddress',
    'start',
    'url',
  ]);
  if (errors.length) throw validationError(errors);
  if (!isId(r.deviceId))
    throw bad('deviceId', `must be a device id (24 lowercase hex characters), got ${JSON.stringify(r.deviceId)}`);
  if (r.name !== undefined && (typeof r.name !== 'string' || r.name.length < 1 || r.name.length > 255))
    throw bad('name', 'must be a string of 1-255 characters');
  const c = r.credentials;
  if (!isObj(c))
    throw bad('credentials', 'must be {mode: "generate"}, {mode: "paste", key, secret} or {mode: "file", content}');
  let credentials: SimAddRequest['credentials'];
  if (c.mode === 'generate') credentials = { mode: 'generate' };
  else if (c.mode === 'paste') {
    if (typeof c.key !== 'string' || c.key.trim().length < 1 || c.key.length > 255)
      throw bad('credentials.key', 'must be the access key (1-255 characters)');
    if (typeof c.secret !== 'string' || c.secret.trim().length < 1 || c.secret.length > 1024)
      throw bad('credentials.secret', 'must be the access secret (1-1024 characters)');
    credentials = { mode: 'paste', key: c.key, secret: c.secret };
  } else if (c.mode === 'file') {
    if (typeof c.content !== 'string' || c.content.length < 1 || c.content.length > 65_536)
      throw bad('credentials.content', 'must be the text of a saved secrets file (at most 64 KiB)');
    credentials = { mode: 'file', content: c.content };
  } else throw bad('credentials.mode', `must be generate, paste or file (got ${JSON.stringify(c.mode)})`);
  if (!isObj(r.behaviour)) throw bad('behaviour', 'must be an object {attributes, everySeconds, ...}');
  const transport = transportOf(r.transport, 'transport');
  if (r.start !== undefined && typeof r.start !== 'boolean') throw bad('start', 'must be true or false');
  return {
    deviceId: r.deviceId,
    ...(r.name !== undefined ? { name: r.name as string } : {}),
    credentials,
    behaviour: r.behaviour as unknown as SimAddRequest['behaviour'],
    transport,
    ...(r.sourceAddress !== undefined ? { sourceAddress: checkSourceAddress(r.sourceAddress, transport) } : {}),
    ...(r.url !== undefined ? { url: checkUrl(r.url) } : {}),
    ...(r.start !== undefined ? { start: r.start as boolean } : {}),
  };
}

export function fleetRequest(req: unknown): FleetRequest {
  const r = isObj(req) ? req : {};
  const errors = unknownFields(r, ['count', 'namePrefix', 'tags', 'behaviour', 'transport']);
  if (errors.length) throw validationError(errors);
  if (typeof r.count !== 'number' || !Number.isInteger(r.count) || r.count < 1 || r.count > MAX_FLEET)
    throw bad('count', `must be a whole number from 1 to ${MAX_FLEET}`);
  if (
    r.namePrefix !== undefined &&
    (typeof r.namePrefix !== 'string' || r.namePrefix.length < 1 || r.namePrefix.length > 200)
  )
    throw bad('namePrefix', 'must be a string of 1-200 characters');
  const tagErrors = validateTags('tags', r.tags, 1000);
  if (tagErrors.length) throw validationError(tagErrors);
  if (!isObj(r.behaviour)) throw bad('behaviour', 'must be an object {attributes, everySeconds, ...}');
  return {
    count: r.count,
    ...(r.namePrefix !== undefined ? { namePrefix: r.namePrefix as string } : {}),
    ...(r.tags !== undefined ? { tags: r.tags as Tag[] } : {}),
    behaviour: r.behaviour as unknown as FleetRequest['behaviour'],
    ...(r.transport !== undefined ? { transport: transportOf(r.transport, 'transport') } : {}),
  };
}

function scenarioName(req: unknown): ScenarioName {
  const name = isObj(req) ? req.name : undefined;
  if (typeof name !== 'string' || !(SCENARIOS as readonly string[]).includes(name))
    throw bad('name', `must be one of ${SCENARIOS.join(', ')} (got ${JSON.stringify(name)})`);
  return name as ScenarioName;
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
} as const;
