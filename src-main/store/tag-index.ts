// Devices by tag, so a tag-scoped key's scope is a lookup, never a scan of every device (issue 17
// item 2; docs/design.md §4, §11). Kept by StoreState on every put, delete, load and undo.
//
// Three maps answer the three kinds of restriction item (docs/design.md §2, core/device-scope.ts):
// `{key, value}` → byPair, `{key}` (any value) → byKey, `{value}` (any key) → byValue; an item with
// neither side matches any tag, so `tagged` (devices with at least one tag) answers it.
//
// Sets are copy-on-write. lookup() hands out the index's own set, marked shared; the next change to
// a shared set first replaces it with a copy, so every set a caller got stays exactly as it was
// (a scope is resolved at CONNECT and must not follow later tag edits). So a burst of CONNECTs costs
// no copy at all, and a tag change copies a bucket at most once per lookup made since.
import type { Device, Tag, TagMatch } from '../core/types.ts';

type Bucket = Set<string>;

const EMPTY: ReadonlySet<string> = new Set();

/** The bucket names of one device, for diffing an update (key and value cannot contain NUL). */
function bucketNames(tags: readonly Tag[]): Set<string> {
  const names = new Set<string>();
  for (const t of tags) {
    names.add(`p\0${t.key}\0${t.value}`);
    names.add(`k\0${t.key}`);
    names.add(`v\0${t.value}`);
  }
  if (tags.length > 0) names.add('t');
  return names;
}

function sameTags(a: readonly Tag[], b: readonly Tag[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Tag;
    const y = b[i] as Tag;
    if (x.key !== y.key || x.value !== y.value) return false;
  }
  return true;
}

export class TagIndex {
  /** Bucket name (see bucketNames) → ids of the devices in it. Empty buckets are removed. */
  readonly #buckets = new Map<string, Bucket>();
  /** Sets handed out by lookup(): never changed again, copied on the next change instead. */
  readonly #shared = new WeakSet<Bucket>();

  /** A device was stored (`before`: the record it replaced, if any). */
  put(before: Pick<Device, 'id' | 'tags'> | undefined, after: Pick<Device, 'id' | 'tags'>): void {
    if (before && before.id === after.id && sameTags(before.tags, after.tags)) return;
    const old = before ? bucketNames(before.tags) : new Set<string>();
    const now = bucketNames(after.tags);
    if (before && before.id !== after.id) {
      for (const name of old) this.#remove(name, before.id);
      old.clear();
    }
    for (const name of old) if (!now.has(name)) this.#remove(name, after.id);
    for (const name of now) if (!old.has(name)) this.#add(name, after.id);
  }

  /** A device was deleted. */
  delete(device: Pick<Device, 'id' | 'tags'>): void {
    for (const name of bucketNames(device.tags)) this.#remove(name, device.id);
  }

  clear(): void {
    this.#buckets.clear();
  }

  /** Ids of the devices with a tag matching `item`, now. A snapshot: later changes never touch it. */
  lookup(item: TagMatch): ReadonlySet<string> {
    const name =
      item.key !== undefined && item.value !== undefined
        ? `p\0${item.key}\0${item.value}`
        : item.key !== undefined
          ? `k\0${item.key}`
          : item.value !== undefined
            ? `v\0${item.value}`
            : 't';
    const bucket = this.#buckets.get(name);
    if (!bucket) return EMPTY;
    this.#shared.add(bucket);
    return bucket;
  }

  #writable(name: string): Bucket | undefined {
    const bucket = this.#buckets.get(name);
    if (!bucket || !this.#shared.has(bucket)) return bucket;
    const copy = new Set(bucket);
    this.#buckets.set(name, copy);
    return copy;
  }

  #add(name: string, id: string): void {
    const bucket = this.#writable(name);
    if (bucket) bucket.add(id);
    else this.#buckets.set(name, new Set([id]));
  }

  #remove(name: string, id: string): void {
    const current = this.#buckets.get(name);
    if (!current?.has(id)) return;
    if (current.size === 1) {
      this.#buckets.delete(name); // no copy needed: whoever holds it keeps it
      return;
    }
    (this.#writable(name) as Bucket).delete(id);
  }
}
