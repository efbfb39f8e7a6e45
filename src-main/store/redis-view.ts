// The Redis store's in-memory view and how change entries from the stream are applied to it
// (docs/design.md §11, "Clustered (Redis)").
//
// A local put changes the view at once (reads are synchronous) and is then written to Redis. Until
// that write's own entry comes back through the stream, the record is TRACKED: the parts this node
// changed are local. An entry from another node for a tracked record is merged (its parts, except
// the local ones; a delete wins), so a "key inactive" from node A is applied on node B at once even
// while B has a lastUsed write in flight for that key. When the last local write of a record is
// settled (its entry arrived, or it failed), the view takes the record as Redis has it: a failed
// write is taken back. The view thus ends, entry after entry, exactly where Redis is.
import type { AccessKeyRecord, Device } from '../core/types.ts';
import type { StoreState } from './memory-store.ts';
import type { ChangeEntry } from './redis-changes.ts';
import { deepFreeze, deviceParts, keyParts, type AnyRecord, type Kind, type Parts } from './redis-layout.ts';
import { recordFrom } from './redis-load.ts';
import type { ExternalChange } from './store.ts';
import { UndoJournal } from './undo-journal.ts';

export type { ExternalChange };

interface Tracked {
  pending: number;
  /** The record as Redis has it, as far as the stream has told us. */
  held: AnyRecord | undefined;
  /** Parts changed here and not yet settled; '*' = the whole record (a delete or a creation). */
  local: Set<string>;
}

const ALL = '*';

export class RedisView {
  readonly #tracked = new Map<string, Tracked>();

  constructor(
    private readonly state: StoreState,
    private readonly origin: string,
    private readonly onExternal: (c: ExternalChange) => void,
    private readonly log: (line: string) => void,
    private readonly hashKey: (kind: Kind, id: string) => string,
  ) {}

  get(kind: Kind, id: string): AnyRecord | undefined {
    return kind === 'device' ? this.state.devices.get(id) : this.state.keys.get(id);
  }

  /**
   * A local change of `parts` is about to be written (`before`: the record before it, as the view
   * had it). Call once per write that will be settled.
   */
  track(kind: Kind, id: string, before: AnyRecord | undefined, parts: Iterable<string>): void {
    const name = `${kind}:${id}`;
    let t = this.#tracked.get(name);
    if (!t) {
      t = { pending: 0, held: before, local: new Set() };
      this.#tracked.set(name, t);
    }
    t.pending++;
    for (const p of parts) t.local.add(p);
  }

  /** Adds parts to a write already tracked (a lazy write still waiting for its flush). */
  widen(kind: Kind, id: string, parts: Iterable<string>): void {
    const t = this.#tracked.get(`${kind}:${id}`);
    if (t) for (const p of parts) t.local.add(p);
  }

  /** One local write of the record is over (acknowledged with its entry seen, or failed). */
  settle(kind: Kind, id: string): void {
    const name = `${kind}:${id}`;
    const t = this.#tracked.get(name);
    if (!t || --t.pending > 0) return;
    this.#tracked.delete(name);
    const current = this.get(kind, id);
    if (current !== t.held) this.#set(kind, id, t.held);
  }

  /** An entry of the change stream, in stream order. */
  apply(entry: ChangeEntry): void {
    const { kind, id } = entry;
    let after: AnyRecord | undefined;
    if (entry.parts) {
      const made = recordFrom(kind, entry.parts);
      if ('problem' in made) {
        this.log(`keyport: cluster change to Redis key ${this.hashKey(kind, id)} refused: ${made.problem}`);
        return;
      }
      after = deepFreeze(made.record);
    }
    const t = this.#tracked.get(`${kind}:${id}`);
    if (entry.origin === this.origin) {
      // Our own write, now in Redis' order. Others' entries after it are applied as they come.
      if (t) {
        t.held = after;
        this.settle(kind, id);
      }
      return;
    }
    const before = this.get(kind, id);
    if (t) {
      t.held = after;
      if (t.local.has(ALL) && after !== undefined) return; // our delete or creation is on its way
      after = after === undefined ? undefined : this.#merge(kind, entry.parts as Parts, before, t.local);
    }
    if (before === undefined && after === undefined) return;
    this.#set(kind, id, after);
    this.onExternal(
      kind === 'device'
        ? { kind, before: before as Device | undefined, after: after as Device | undefined }
        : { kind, before: before as AccessKeyRecord | undefined, after: after as AccessKeyRecord | undefined },
    );
  }

  /** Another node's record with this node's unsettled parts laid over it. */
  #merge(kind: Kind, remote: Parts, mine: AnyRecord | undefined, local: Set<string>): AnyRecord | undefined {
    const parts: Parts = { ...remote };
    if (mine) {
      const own = kind === 'device' ? deviceParts(mine as Device) : keyParts(mine as AccessKeyRecord);
      for (const p of local) {
        if (own[p] === undefined) continue;
        if (own[p] === '') delete parts[p];
        else parts[p] = own[p];
      }
    }
    const made = recordFrom(kind, parts);
    return 'record' in made ? deepFreeze(made.record) : undefined;
  }

  /** Puts a checked, frozen record (or its absence) into the view, indexes included. */
  #set(kind: Kind, id: string, value: AnyRecord | undefined): void {
    const undo = new UndoJournal();
    if (kind === 'device') undo.noteDevice(id, value as Device | undefined);
    else {
      // A public key moving between records: drop whoever holds the string in the view.
      const k = value as AccessKeyRecord | undefined;
      const holder = k ? this.state.byKey.get(k.key) : undefined;
      if (holder && holder.id !== id) this.state.byKey.delete(k!.key);
      undo.noteKey(id, k);
    }
    this.state.restore(undo);
  }

  /**
   * After a reload: every record of the snapshot, and the absence of every record the view holds
   * that the snapshot lacks, applied as entries from elsewhere.
   */
  reconcile(kind: Kind, snapshot: Map<string, Parts>): void {
    const ids = kind === 'device' ? [...this.state.devices.keys()] : [...this.state.keys.keys()];
    for (const id of ids) if (!snapshot.has(id)) this.apply({ origin: '', write: 0, n: 0, kind, id, parts: null });
    for (const [id, parts] of snapshot) {
      const before = this.get(kind, id);
      const own = before && (kind === 'device' ? deviceParts(before as Device) : keyParts(before as AccessKeyRecord));
      const same = own && Object.entries(own).every(([p, text]) => (parts[p] ?? '') === text);
      if (!same) this.apply({ origin: '', write: 0, n: 0, kind, id, parts });
    }
  }
}
