// Reading the Redis store's records: the whole data set at open (and after a gap in the change
// stream), and one record from a change entry. Every record passes the checks a record read from
// keyport.json passes (validate-data.ts); a bad one refuses the open with a StoreFileError naming
// the Redis key and the hash field (docs/design.md §11, "Clustered (Redis)").
import type { Redis } from 'ioredis';
import { findPrototypeKey, prototypeKeyMessage } from '../core/prototype-keys.ts';
import type { AccessKeyRecord, Device } from '../core/types.ts';
import { newApplicationId } from './memory-store.ts';
import {
  assemble,
  fieldOf,
  RecordTextError,
  type AnyRecord,
  type Kind,
  type Parts,
  type RedisKeys,
} from './redis-layout.ts';
import { STORE_VERSION, StoreFileError } from './store.ts';
import { validateDevice, validateKeyRecord } from './validate-data.ts';

/** How many records one pipeline reads at open. */
const LOAD_BATCH = 1000;

export interface Snapshot {
  applicationId: string;
  devices: Device[];
  keys: AccessKeyRecord[];
  /** The stream entry the snapshot is at least as new as, and its change number. */
  fromId: string;
  n: number;
}

const label = (hashKey: string) => `Redis key ${hashKey}`;

/** Parses and checks one record from its parts; the problem names the hash field, or null. */
export function recordFrom(kind: Kind, parts: Parts): { record: AnyRecord } | { problem: string } {
  let record: AnyRecord;
  try {
    record = assemble(kind, parts);
  } catch (err) {
    if (err instanceof RecordTextError) return { problem: err.message };
    throw err;
  }
  const root = kind === 'device' ? 'device' : 'key';
  const proto = findPrototypeKey(record, root);
  if (proto !== null) return { problem: `field "${fieldOf(kind, proto)}": ${prototypeKeyMessage(proto)}` };
  const problem = kind === 'device' ? validateDevice(record, root) : validateKeyRecord(record, root);
  if (problem) return { problem: `field "${fieldOf(kind, problem)}": ${problem}` };
  return { record };
}

/** The application id (made on first use, HSETNX: the first node decides), checked. */
async function readMeta(redis: Redis, keys: RedisKeys): Promise<string> {
  await redis.hsetnx(keys.meta, 'applicationId', newApplicationId());
  await redis.hsetnx(keys.meta, 'version', String(STORE_VERSION));
  const meta = await redis.hgetall(keys.meta);
  if (meta.version !== String(STORE_VERSION))
    throw new StoreFileError(
      label(keys.meta),
      `field "version": must be ${STORE_VERSION}, found ${JSON.stringify(meta.version)}`,
    );
  if (!/^[0-9a-f]{24}$/.test(meta.applicationId ?? ''))
    throw new StoreFileError(label(keys.meta), 'field "applicationId": must be 24 lowercase hex characters');
  return meta.applicationId as string;
}

/** Where the stream is now: its last entry id and change number, read together (MULTI). */
export async function streamPosition(redis: Redis, keys: RedisKeys): Promise<{ fromId: string; n: number }> {
  const replies = await redis.multi().xrevrange(keys.changes, '+', '-', 'COUNT', 1).get(keys.seq).exec();
  const last = replies?.[0]?.[1] as Array<[string, string[]]> | undefined;
  const seq = replies?.[1]?.[1] as string | null | undefined;
  return { fromId: last?.[0]?.[0] ?? '0-0', n: Number(seq ?? 0) };
}

/** Every record of one kind, in creation order, as raw hash fields (pk left out). */
export async function readAll(redis: Redis, keys: RedisKeys, kind: Kind): Promise<Map<string, Parts>> {
  const ids = await redis.zrange(kind === 'device' ? keys.devices : keys.keys, 0, -1);
  const out = new Map<string, Parts>();
  for (let i = 0; i < ids.length; i += LOAD_BATCH) {
    const slice = ids.slice(i, i + LOAD_BATCH);
    const pipe = redis.pipeline();
    for (const id of slice) pipe.hgetall(kind === 'device' ? keys.device(id) : keys.key(id));
    const replies = (await pipe.exec()) ?? [];
    slice.forEach((id, j) => {
      const [err, fields] = replies[j] ?? [new Error('no reply'), null];
      if (err) throw err;
      const parts = { ...(fields as Parts) };
      delete parts.pk;
      // An id listed but without a hash: a half-deleted record (not ours; our scripts are atomic).
      if (Object.keys(parts).length > 0) out.set(id, parts);
    });
  }
  return out;
}

function checkAll<T extends AnyRecord>(kind: Kind, raw: Map<string, Parts>, hashKey: (id: string) => string): T[] {
  const out: T[] = [];
  for (const [id, parts] of raw) {
    const made = recordFrom(kind, parts);
    if ('problem' in made) throw new StoreFileError(label(hashKey(id)), made.problem);
    if (made.record.id !== id)
      throw new StoreFileError(
        label(hashKey(id)),
        `field "rec": id ${JSON.stringify(made.record.id)} does not match the key name`,
      );
    out.push(made.record as T);
  }
  return out;
}

/** Loads and checks everything (open, or a reload after a gap in the stream). */
export async function loadSnapshot(redis: Redis, keys: RedisKeys): Promise<Snapshot> {
  const applicationId = await readMeta(redis, keys);
  // The position first: the records read after it are at least that new, and the follower
  // replays every entry after it (replaying a change already in the snapshot is harmless).
  const position = await streamPosition(redis, keys);
  const devices = checkAll<Device>('device', await readAll(redis, keys, 'device'), keys.device);
  const records = checkAll<AccessKeyRecord>('key', await readAll(redis, keys, 'key'), keys.key);
  const holders = new Map<string, string>();
  for (const k of records) {
    const other = holders.get(k.key);
    if (other !== undefined)
      throw new StoreFileError(
        label(keys.key(k.id)),
        `field "rec": key.key is also the public key of access key ${other}`,
      );
    holders.set(k.key, k.id);
  }
  return { applicationId, devices, keys: records, ...position };
}
