// The plan of one `keyport simulate` run, from its flags: one device with given credentials (the
// secret from a file, stdin, KEYPORT_SECRET or, with a warning, the command line; see
// ./secret-input.ts) or a fleet of N, plus the behaviour, transport and target. Every bad flag is a
// UsageError naming it.
import type { Tag } from '../core/types.ts';
import { formatErrors } from '../core/validation.ts';
import { ServiceError } from '../shared/errors.ts';
import { checkSourceAddress, checkUrl } from '../service/simulator-handlers.ts';
import { ATTRIBUTE_NAME } from '../core/schemas/behaviour-schema.ts';
import { parseBehaviour } from '../core/behaviour-rules.ts';
import { defaultBehaviour, parseGeneratorSpec } from '../simulator/generators.ts';
import { parseShard, shardRange, type Shard, type ShardRange } from '../simulator/shards.ts';
import type { Generator, SimBehaviour, SimTransport } from '../simulator/types.ts';
import { intFlag, numberFlag, parse, strings, tagsFrom } from './args.ts';
import type { CliIo } from './io.ts';
import { apiOf } from './simulate-api.ts';
import { readSecret } from './secret-input.ts';
import { UsageError } from './usage.ts';

/** Devices one `keyport simulate` runs (and makes keys for). */
const MAX_CLI_FLEET = 2000;
/** A fleet split with --shard: each machine still runs at most MAX_CLI_FLEET of it. */
const MAX_SHARDED_FLEET = 1_000_000;

export interface Plan {
  single?: { deviceId: string; key: string; secret: string; name?: string };
  /** `count` devices of a fleet: numbers range.first..range.last of range.size (all of it without --shard). */
  fleet?: { count: number; tags: Tag[]; prefix: string; keep: boolean; range: ShardRange; shard?: Shard };
  behaviour: SimBehaviour;
  transport: SimTransport;
  /** --url: one broker. */
  url?: string;
  /** --broker: the brokers (nodes of a cluster) devices start on and fail over along. */
  brokers?: string[];
  /** --api: a Keyport server's HTTP API (any node of a cluster) that makes the fleet's devices and keys. */
  api?: { url: string; token: string };
  source?: string;
  duration?: number;
  json: boolean;
}

function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ServiceError) throw new UsageError(`--${err.message.replace(/^sourceAddress/, 'source')}`);
    throw err;
  }
}

export async function parsePlan(args: string[], io: CliIo): Promise<Plan> {
  const { values: v, positionals } = parse(args, {
    device: { type: 'string' },
    key: { type: 'string' },
    secret: { type: 'string' },
    'secret-file': { type: 'string' },
    name: { type: 'string' },
    fleet: { type: 'string' },
    tag: { type: 'string', multiple: true },
    'name-prefix': { type: 'string' },
    keep: { type: 'boolean' },
    every: { type: 'string' },
    duration: { type: 'string' },
    transport: { type: 'string' },
    url: { type: 'string' },
    broker: { type: 'string', multiple: true },
    shard: { type: 'string' },
    api: { type: 'string' },
    'admin-token-file': { type: 'string' },
    source: { type: 'string' },
    attr: { type: 'string', multiple: true },
  });
  if (positionals.length) throw new UsageError(`simulate takes no arguments (got "${positionals[0]}")`);
  const single = v.device !== undefined || (v['secret-file'] !== undefined && v.fleet === undefined);
  if (single === (v.fleet !== undefined))
    throw new UsageError('simulate needs either --device ID --key K with a secret (--secret-file F), or --fleet N');
  const transport = v.transport ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'ws')
    throw new UsageError(`--transport must be tcp or ws (got "${String(transport)}")`);
  const every = numberFlag('every', v.every, 0.1, 86_400) ?? 5;
  const duration = numberFlag('duration', v.duration, 0.1, 365 * 86_400);
  const attributes: Record<string, Generator> = {};
  for (const a of strings(v.attr)) {
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : '';
    if (!ATTRIBUTE_NAME.test(name))
      throw new UsageError(`--attr "${a}" must look like name=generator (e.g. temp=float:18..26)`);
    const g = parseGeneratorSpec(a.slice(eq + 1));
    if (typeof g === 'string') throw new UsageError(`--attr ${name}: ${g}`);
    attributes[name] = g;
  }
  const behaviour: SimBehaviour = Object.keys(attributes).length
    ? { attributes, everySeconds: every }
    : defaultBehaviour(every);
  const checked = parseBehaviour(behaviour);
  if (!checked.ok) throw new UsageError(`--attr: ${formatErrors(checked.errors)}`);
  const url = v.url === undefined ? undefined : asUsage(() => checkUrl(v.url));
  const brokers = brokerList(v.broker);
  if (url !== undefined && brokers !== undefined)
    throw new UsageError('--url and --broker cannot be combined (--broker takes one URL or a list)');
  const source = v.source === undefined ? undefined : asUsage(() => checkSourceAddress(v.source, transport));
  const common = {
    behaviour,
    transport: transport as SimTransport,
    json: v.json === true,
    ...(url ? { url } : {}),
    ...(brokers ? { brokers } : {}),
    ...apiOf(v.api, v['admin-token-file'], io),
    ...(source ? { source } : {}),
    ...(duration !== undefined ? { duration } : {}),
  };
  if (v.fleet !== undefined) {
    for (const f of ['key', 'secret', 'secret-file', 'name'] as const)
      if (v[f] !== undefined) throw new UsageError(`--${f} is for --device; a fleet gets a new key per device`);
    const size = intFlag('fleet', v.fleet, 1, v.shard === undefined ? MAX_CLI_FLEET : MAX_SHARDED_FLEET) as number;
    const prefix = (v['name-prefix'] as string | undefined) ?? 'Fleet device';
    if (prefix.length < 1 || prefix.length > 200) throw new UsageError('--name-prefix must be 1-200 characters');
    const { range, shard } = sliceOf(size, v.shard);
    const count = range.last - range.first + 1;
    const fleet = { count, tags: tagsFrom(v.tag), prefix, keep: v.keep === true, range, ...(shard ? { shard } : {}) };
    return { ...common, fleet };
  }
  if (v.shard !== undefined) throw new UsageError("--shard is for --fleet (it picks this machine's part of the fleet)");
  if (v.tag !== undefined || v['name-prefix'] !== undefined || v.keep !== undefined)
    throw new UsageError('--tag, --name-prefix and --keep are for --fleet');
  const creds = await readSecret(
    {
      ...(typeof v.secret === 'string' ? { secret: v.secret } : {}),
      ...(typeof v['secret-file'] === 'string' ? { secretFile: v['secret-file'] } : {}),
    },
    io,
  );
  // A secrets file names its key and device; flags that say otherwise are a mistake, not an override.
  for (const [flag, given, saved] of [
    ['--key', v.key, creds?.key],
    ['--device', v.device, creds?.deviceId],
  ] as const)
    if (typeof given === 'string' && saved !== undefined && given !== saved)
      throw new UsageError(`${flag} "${given}" is not the one in ${creds!.from} ("${saved}")`);
  const device = typeof v.device === 'string' ? v.device : creds?.deviceId;
  if (device === undefined) throw new UsageError(`--device ID is needed (${creds?.from ?? 'the file'} names none)`);
  if (device.length < 1 || device.length > 255) throw new UsageError('--device must be a device id');
  const key = typeof v.key === 'string' ? v.key : creds?.key;
  if (!key) throw new UsageError('--device needs --key K (the access key)');
  if (!creds)
    throw new UsageError(
      '--device needs the access secret: --secret-file FILE, KEYPORT_SECRET=…, or --secret - (read from stdin)',
    );
  return {
    ...common,
    single: { deviceId: device, key, secret: creds.secret, ...(typeof v.name === 'string' ? { name: v.name } : {}) },
  };
}

/** --broker URL[,URL…] (repeatable): every URL checked, in order, duplicates refused. */
function brokerList(values: unknown): string[] | undefined {
  if (values === undefined) return undefined;
  const list = (values as string[]).flatMap((v) => v.split(',')).map((u) => u.trim());
  const out: string[] = [];
  for (const u of list) {
    if (u === '') throw new UsageError('--broker: an empty URL in the list (URLs are separated by commas)');
    try {
      checkUrl(u);
    } catch (err) {
      if (err instanceof ServiceError) throw new UsageError(`--broker${err.message.replace(/^url/, '')}`);
      throw err;
    }
    if (out.includes(u)) throw new UsageError(`--broker: ${u} is listed twice`);
    out.push(u);
  }
  return out;
}

/** The devices this run makes: all of a fleet, or the slice --shard I/S names. */
function sliceOf(size: number, text: unknown): { range: ShardRange; shard?: Shard } {
  if (text === undefined) return { range: { first: 1, last: size, size } };
  const shard = parseShard(String(text));
  if (typeof shard === 'string') throw new UsageError(`--shard ${shard}`);
  const range = shardRange(size, shard);
  if (typeof range === 'string') throw new UsageError(`--shard ${text}: ${range}`);
  const n = range.last - range.first + 1;
  if (n > MAX_CLI_FLEET)
    throw new UsageError(
      `--shard ${text} of --fleet ${size} is ${n} devices; one simulate runs at most ${MAX_CLI_FLEET} (split it into more shards)`,
    );
  return { range, shard };
}
