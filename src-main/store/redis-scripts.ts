// The Redis store's writes, as Lua scripts: each runs atomically in Redis, changes one record AND
// appends the change to the stream every node follows, so the stream's order is the order in which
// Redis applied the changes (docs/design.md §11, "Clustered (Redis)"). A change entry carries the
// record's whole stored state after the change (every part), not a diff: a node applying entries
// in order ends with exactly what Redis holds.
//
// Entry fields: o = origin (the writing store instance), w = its write number, n = change number
// (INCR of the seq key: a follower that sees a gap knows it missed entries and reloads),
// t = d|k, id, then either del = 1 or p:<part> = JSON for every part present.
import type { Redis } from 'ioredis';

/** Longest the change stream gets (approximately: MAXLEN ~). A node further behind reloads. */
export const STREAM_MAXLEN = 100_000;

// Shared tail: bump the change number and append the record's state to the stream.
const APPEND = `
local function append(stream, seq, origin, w, t, id, h)
  local n = redis.call('INCR', seq)
  local entry = {'o', origin, 'w', w, 'n', n, 't', t, 'id', id}
  if h then
    local cur = redis.call('HGETALL', h)
    for i = 1, #cur, 2 do
      if cur[i] ~= 'pk' then
        entry[#entry + 1] = 'p:' .. cur[i]
        entry[#entry + 1] = cur[i + 1]
      end
    end
  else
    entry[#entry + 1] = 'del'
    entry[#entry + 1] = '1'
  end
  redis.call('XADD', stream, 'MAXLEN', '~', ARGV[1], '*', unpack(entry))
  return n
end
local function setparts(h, from)
  for i = from, #ARGV, 2 do
    if ARGV[i + 1] == '' then redis.call('HDEL', h, ARGV[i]) else redis.call('HSET', h, ARGV[i], ARGV[i + 1]) end
  end
end
local function place(set, order, id)
  if not redis.call('ZSCORE', set, id) then redis.call('ZADD', set, redis.call('INCR', order), id) end
end
`;

/**
 * KEYS: hash, id set, order, stream, seq. ARGV: maxlen, origin, w, id, mode, then part/value
 * pairs. mode "patch" (live bookkeeping) changes nothing when the device is gone: a status
 * written after another node deleted the device must not bring back half a record.
 * Returns 1 (written) or 0 (patch of a missing device).
 */
const PUT_DEVICE = `${APPEND}
local h = KEYS[1]
if ARGV[5] == 'patch' and redis.call('HEXISTS', h, 'rec') == 0 then return 0 end
setparts(h, 6)
place(KEYS[2], KEYS[3], ARGV[4])
append(KEYS[4], KEYS[5], ARGV[2], ARGV[3], 'd', ARGV[4], h)
return 1
`;

/**
 * KEYS: hash, id set, order, stream, seq, public-key index. ARGV: maxlen, origin, w, id, mode,
 * public key ('' = unchanged), then part/value pairs. The public key's uniqueness is checked
 * and the index moved in the same script as the write. Returns 1, 0 (patch of a missing key) or
 * "taken:<id of the key holding it>".
 */
const PUT_KEY = `${APPEND}
local h = KEYS[1]
local id = ARGV[4]
if ARGV[5] == 'patch' and redis.call('HEXISTS', h, 'rec') == 0 then return 0 end
local pk = ARGV[6]
if pk ~= '' then
  local holder = redis.call('HGET', KEYS[6], pk)
  if holder and holder ~= id then return 'taken:' .. holder end
  local old = redis.call('HGET', h, 'pk')
  if old and old ~= pk and redis.call('HGET', KEYS[6], old) == id then redis.call('HDEL', KEYS[6], old) end
  redis.call('HSET', KEYS[6], pk, id)
  redis.call('HSET', h, 'pk', pk)
end
setparts(h, 7)
place(KEYS[2], KEYS[3], id)
append(KEYS[4], KEYS[5], ARGV[2], ARGV[3], 'k', id, h)
return 1
`;

/** KEYS: hash, id set, stream, seq, public-key index (keys only). ARGV: maxlen, origin, w, id, t. */
const DELETE = `${APPEND}
local h = KEYS[1]
if redis.call('EXISTS', h) == 0 then return 0 end
if KEYS[5] then
  local pk = redis.call('HGET', h, 'pk')
  if pk and redis.call('HGET', KEYS[5], pk) == ARGV[4] then redis.call('HDEL', KEYS[5], pk) end
end
redis.call('DEL', h)
redis.call('ZREM', KEYS[2], ARGV[4])
append(KEYS[3], KEYS[4], ARGV[2], ARGV[3], ARGV[5], ARGV[4], nil)
return 1
`;

export interface StoreScripts {
  putDevice(keys: string[], args: string[]): Promise<number>;
  putKey(keys: string[], args: string[]): Promise<number | string>;
  deleteRecord(keys: string[], args: string[]): Promise<number>;
}

type Call = (...args: Array<string | number>) => Promise<unknown>;

/** Registers the scripts on a connection (EVALSHA, loaded again by ioredis if Redis lost them). */
export function defineScripts(redis: Redis): StoreScripts {
  redis.defineCommand('keyportPutDevice', { lua: PUT_DEVICE });
  redis.defineCommand('keyportPutKey', { lua: PUT_KEY });
  redis.defineCommand('keyportDelete', { lua: DELETE });
  const r = redis as unknown as Record<string, Call>;
  const call = (name: string, keys: string[], args: string[]) =>
    (r[name] as Call).call(redis, keys.length, ...keys, String(STREAM_MAXLEN), ...args);
  return {
    putDevice: (keys, args) => call('keyportPutDevice', keys, args) as Promise<number>,
    putKey: (keys, args) => call('keyportPutKey', keys, args) as Promise<number | string>,
    deleteRecord: (keys, args) => call('keyportDelete', keys, args) as Promise<number>,
  };
}
