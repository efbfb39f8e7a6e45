// Fleets across machines (docs/design.md §7, "Fleets across machines"): which devices of one fleet a
// shard runs, and which broker of a list each device starts on. Pure: the same flags on every
// machine give the same slices, so several `keyport simulate --fleet N --shard I/S` runs cover the
// fleet exactly once (no device twice, none missing) and name their devices as one fleet would.

export interface Shard {
  /** 1-based: the first of S shards is 1/S. */
  index: number;
  count: number;
}

/** Devices `first`..`last` (1-based, inclusive) of a fleet of `size`. */
export interface ShardRange {
  first: number;
  last: number;
  size: number;
}

const SHARD = /^(\d{1,7})\/(\d{1,7})$/;

/** "2/4" → { index: 2, count: 4 }; a string naming what is wrong otherwise. */
export function parseShard(text: string): Shard | string {
  const m = SHARD.exec(text.trim());
  if (!m) return `must look like I/S, shard I of S counted from 1 (e.g. 2/4; got "${text}")`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) return `the shard count must be at least 1 (got "${text}")`;
  if (index < 1 || index > count) return `the shard number must be from 1 to ${count} (counted from 1; got "${text}")`;
  return { index, count };
}

/**
 * The devices of shard I of S in a fleet of `size`: an even split, the larger slices first
 * (1000 in 3 → 1–334, 335–667, 668–1000). Every shard gets at least one device, so S ≤ size.
 */
export function shardRange(size: number, shard: Shard): ShardRange | string {
  if (shard.count > size)
    return `${shard.count} shards of a fleet of ${size} would leave a shard without devices (at most ${size} shards)`;
  const base = Math.floor(size / shard.count);
  const extra = size % shard.count;
  const first = (shard.index - 1) * base + Math.min(shard.index - 1, extra) + 1;
  const last = first + base + (shard.index <= extra ? 1 : 0) - 1;
  return { first, last, size };
}

/**
 * The broker list as device number `n` (1-based, in the whole fleet) walks it: starting at URL
 * (n-1) mod B, then the next ones in order, round the list. Spread by the fleet-wide number, so the
 * devices of all shards together are spread evenly over the brokers.
 */
export function brokerOrder(urls: readonly string[], n: number): string[] {
  if (urls.length === 0) throw new Error('brokerOrder needs at least one broker URL');
  const at = (((n - 1) % urls.length) + urls.length) % urls.length;
  return [...urls.slice(at), ...urls.slice(0, at)];
}
