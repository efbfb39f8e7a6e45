// What a store write must be able to take back. Every change since the last write started is
// noted here with the record's value BEFORE the first such change (its pre-image; undefined when
// the record did not exist). A write seals the journal it covers and starts a fresh one; if the
// write fails, the sealed and the open journals are applied back (open first, then sealed), which
// returns memory exactly to what the file holds, so a refused change is never written later.
//
// Keeping only the first pre-image per record makes this O(changed records), not O(store): a
// fleet's thousand state reports to one device cost one entry.
import type { AccessKeyRecord, Device } from '../core/types.ts';

export class UndoJournal {
  readonly devices = new Map<string, Device | undefined>();
  readonly keys = new Map<string, AccessKeyRecord | undefined>();

  noteDevice(id: string, before: Device | undefined): void {
    if (!this.devices.has(id)) this.devices.set(id, before);
  }

  noteKey(id: string, before: AccessKeyRecord | undefined): void {
    if (!this.keys.has(id)) this.keys.set(id, before);
  }

  get size(): number {
    return this.devices.size + this.keys.size;
  }

  /** Journals applied back together: the earliest pre-image of each record wins. */
  static merge(earlier: UndoJournal, later: UndoJournal): UndoJournal {
    const out = new UndoJournal();
    for (const j of [earlier, later]) {
      for (const [id, v] of j.devices) out.noteDevice(id, v);
      for (const [id, v] of j.keys) out.noteKey(id, v);
    }
    return out;
  }
}
