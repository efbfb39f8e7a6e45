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
/** Buckets by name: a tag key, a tag value, or '' for "has any tag". */
type Buckets = Map<string, Bucket>;

const EMPTY: ReadonlySet<string> = new Set();
const ANY = '';

function hasPair(tags: readonly Tag[], key: string, value: string): boolean {
  for (const t of tags) if (t.key === key && t.value === value) return true;
  return false;
}

function hasKey(tags: readonly Tag[], key: string): boolean {
  for (const t of tags) if (t.key === key) return true;
  return false;
}

function hasValue(tags: readonly Tag[], value: string): boolean {
  for (const t of tags) if (t.value === value) return true;
  return false;
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

const NONE: readonly Tag[] = [];

export class TagIndex {
  // Nested maps, no composite string names: building the index of 100,000 devices at load made
  // 700,000 concatenated names to hash (about 1 s of CPU); plain lookups by key then value do not.
  /** Tag key → tag value → ids of the devices with that {key, value}. Empty buckets are removed. */
  readonly #pairs = new Map<string, Buckets>();
  readonly #byKey: Buckets = new Map();
  readonly #byValue: Buckets = new Map();
  /** The one bucket under ANY: devices with at least one tag. */
  readonly #tagged: Buckets = new Map();
  /** Sets handed out by lookup(): never changed again, copied on the next change instead. */
  readonly #shared = new WeakSet<Bucket>();
  /**
   * The devices the index is built from on the first lookup (issue 17 item 4): until something
   * asks, put and delete do nothing, so opening a 100,000-device store does not pay ~0.5 s of CPU
   * and ~20 MB for an index a store without tag-scoped keys never reads. Once built, it is kept on
   * every change as before.
   */
  readonly #source: () => Iterable<Pick<Device, 'id' | 'tags'>>;
  #built = false;

  constructor(source: () => Iterable<Pick<Device, 'id' | 'tags'>> = () => []) {
    this.#source = source;
  }

  /** Whether the index has been built (the first lookup builds it). */
  get built(): boolean {
    return this.#built;
  }

  #build(): void {
    this.#built = true;
    for (const device of this.#source()) this.put(undefined, device);
  }

  /** A device was stored (`before`: the record it replaced, if any). */
  put(before: Pick<Device, 'id' | 'tags'> | undefined, after: Pick<Device, 'id' | 'tags'>): void {
    if (!this.#built) return;
    if (before && before.id !== after.id) {
      this.delete(before);
      before = undefined;
    }
    const old = before ? before.tags : NONE;
    const now = after.tags;
    if (before && sameTags(old, now)) return;
    const id = after.id;
    // Only what changed is touched, so a bucket a live scope holds is not copied for nothing.
    for (const t of old) {
      if (!hasPair(now, t.key, t.value)) this.#remove(this.#pairs.get(t.key), t.value, id, t.key);
      if (!hasKey(now, t.key)) this.#remove(this.#byKey, t.key, id);
      if (!hasValue(now, t.value)) this.#remove(this.#byValue, t.value, id);
    }
    for (const t of now) {
      if (!hasPair(old, t.key, t.value)) {
        let values = this.#pairs.get(t.key);
        if (!values) this.#pairs.set(t.key, (values = new Map()));
        this.#add(values, t.value, id);
      }
      if (!hasKey(old, t.key)) this.#add(this.#byKey, t.key, id);
      if (!hasValue(old, t.value)) this.#add(this.#byValue, t.value, id);
    }
    if (old.length > 0 && now.length === 0) this.#remove(this.#tagged, ANY, id);
    if (old.length === 0 && now.length > 0) this.#add(this.#tagged, ANY, id);
  }

  /** A device was deleted. */
  delete(device: Pick<Device, 'id' | 'tags'>): void {
    if (!this.#built) return;
    for (const t of device.tags) {
      this.#remove(this.#pairs.get(t.key), t.value, device.id, t.key);
      this.#remove(this.#byKey, t.key, device.id);
      this.#remove(this.#byValue, t.value, device.id);
    }
    if (device.tags.length > 0) this.#remove(this.#tagged, ANY, device.id);
  }

  /** Forgets everything; the next lookup builds the index again from the source. */
  clear(): void {
    this.#built = false;
    this.#pairs.clear();
    this.#byKey.clear();
    this.#byValue.clear();
    this.#tagged.clear();
  }

  /** Ids of the devices with a tag matching `item`, now. A snapshot: later changes never touch it. */
  lookup(item: TagMatch): ReadonlySet<string> {
    if (!this.#built) this.#build();
    const bucket =
      item.key !== undefined && item.value !== undefined
        ? this.#pairs.get(item.key)?.get(item.value)
        : item.key !== undefined
          ? this.#byKey.get(item.key)
          : item.value !== undefined
            ? this.#byValue.get(item.value)
            : this.#tagged.get(ANY);
    if (!bucket) return EMPTY;
    this.#shared.add(bucket);
    return bucket;
  }

  #add(buckets: Buckets, name: string, id: string): void {
    const bucket = buckets.get(name);
    if (!bucket) buckets.set(name, new Set([id]));
    else if (!this.#shared.has(bucket)) bucket.add(id);
    else if (!bucket.has(id)) buckets.set(name, new Set(bucket).add(id));
  }

  /** `pairKey`: these buckets are the values of that tag key in #pairs (dropped when emptied). */
  #remove(buckets: Buckets | undefined, name: string, id: string, pairKey?: string): void {
    const current = buckets?.get(name);
    if (!buckets || !current?.has(id)) return;
    if (current.size === 1) {
      buckets.delete(name); // no copy needed: whoever holds it keeps it
      if (pairKey !== undefined && buckets.size === 0) this.#pairs.delete(pairKey);
      return;
    }
    if (!this.#shared.has(current)) current.delete(id);
    else {
      const copy = new Set(current);
      copy.delete(id);
      buckets.set(name, copy);
    }
  }
}
