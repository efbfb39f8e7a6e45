// The store's append-only journal (docs/design.md §11 "Writes"; issue 17 item 3).
//
// keyport.json is the document; keyport.journal holds the changes committed since it was written.
// Line 1 is a header `{"keyportJournal":1,"generation":G}`; every further line is ONE committed
// batch (one write of the store): the records it changed, whole, as they were after it, and the
// ids it deleted:
//   {"devices":[…],"keys":[…],"deletedDevices":["…"],"deletedKeys":["…"],
//    "deviceParts":[{"id":"…","connectionStatus":{…}}],"keyParts":[{"id":"…","lastUsed":"…"}]}
// (empty parts left out). A record whose change in the batch is only its live bookkeeping (a
// device's connectionStatus and/or lastState, a key's lastUsed; issue 17 item 1) is written as a
// part, not whole: replay puts the part onto the record as the lines before left it. A CONNECT
// burst then journals ~200 bytes per device instead of the whole record, so compactions are rarer.
// A batch is one line so that a crash mid-append can only cut off the LAST line, never leave half
// of a batch that looks whole. A put resolves once its batch line is written and fsynced.
//
// Compaction folds the journal into the document: the journal of generation G is renamed to
// keyport.journal.G, a fresh keyport.journal of generation G+1 takes the next appends, and the
// document written next says `"journal": G+1` ("every generation below G+1 is in me"). Once that
// document is renamed into place the old journal files are removed. So at any crash point:
//  - before the document's rename: the old document + keyport.journal.G + keyport.journal;
//  - after it: the new document, and keyport.journal.G is skipped (its generation is below) and
//    removed at the next open.
// Load = document, then every journal file whose generation is ≥ the document's, in order.
import type { AccessKeyRecord, Device } from '../core/types.ts';

export const JOURNAL_FILE = 'keyport.journal';
export const JOURNAL_FORMAT = 1;

/** A journal compacts once it holds this many bytes … */
export const JOURNAL_MIN_BYTES = 1 << 20;
/** … or this fraction of the last document written, whichever is more. */
export const JOURNAL_DOC_FRACTION = 1 / 8;

/** A device's bookkeeping changed by a batch (the rest of the record is as the lines before left it). */
export interface DevicePart {
  id: string;
  connectionStatus?: NonNullable<Device['connectionStatus']>;
  lastState?: NonNullable<Device['lastState']>;
}

/** An access key's bookkeeping changed by a batch. */
export interface KeyPart {
  id: string;
  lastUsed: string;
}

/** One committed batch of changes. */
export interface JournalBatch {
  devices?: Device[];
  keys?: AccessKeyRecord[];
  deletedDevices?: string[];
  deletedKeys?: string[];
  deviceParts?: DevicePart[];
  keyParts?: KeyPart[];
}

/** The fields a part may carry: a record that differs from its pre-image only in these is a part. */
export const DEVICE_PART_FIELDS = ['connectionStatus', 'lastState'] as const;
export const KEY_PART_FIELDS = ['lastUsed'] as const;

/** The rotated journal of generation `g`: `keyport.journal.<g>`. */
export function rotatedJournalName(generation: number): string {
  return `${JOURNAL_FILE}.${generation}`;
}

/** The generation in a rotated journal's name, or null when `name` is not one. */
export function rotatedGeneration(name: string): number | null {
  const m = /^keyport\.journal\.(\d{1,15})$/.exec(name);
  return m ? Number(m[1]) : null;
}

export function journalHeader(generation: number): string {
  return `${JSON.stringify({ keyportJournal: JOURNAL_FORMAT, generation })}\n`;
}

/** The batch as its journal line (ending with a newline), or null when it changes nothing. */
export function batchLine(batch: JournalBatch): string | null {
  const out: JournalBatch = {};
  if (batch.devices?.length) out.devices = batch.devices;
  if (batch.keys?.length) out.keys = batch.keys;
  if (batch.deletedDevices?.length) out.deletedDevices = batch.deletedDevices;
  if (batch.deletedKeys?.length) out.deletedKeys = batch.deletedKeys;
  if (batch.deviceParts?.length) out.deviceParts = batch.deviceParts;
  if (batch.keyParts?.length) out.keyParts = batch.keyParts;
  if (Object.keys(out).length === 0) return null;
  return `${JSON.stringify(out)}\n`;
}

/**
 * Whether `now` differs from `before` (its pre-image, what the disk holds) only in `parts`, each
 * of which `now` still has. Records are frozen and a bookkeeping put shares the rest of the record
 * (`{ ...current, connectionStatus }`), so identity is the test: a field replaced by an equal copy
 * makes the record go whole, which is never wrong.
 */
function onlyParts(before: object, now: object, parts: readonly string[]): boolean {
  const b = before as Record<string, unknown>;
  const n = now as Record<string, unknown>;
  let count = 0;
  for (const k in n) {
    if (parts.includes(k)) continue;
    if (n[k] !== b[k]) return false;
    count++;
  }
  for (const k in b) {
    if (parts.includes(k)) {
      if (n[k] === undefined) return false; // a part removed: only a whole record says that
    } else count--;
  }
  return count === 0;
}

/**
 * The batch that commits the changes noted in `undo` (the ids changed since the last write):
 * each changed record as it is now (only its changed bookkeeping parts when nothing else of it
 * changed), or its id among the deleted when it is gone. A record made and deleted within the same
 * batch leaves no trace; one changed back to its pre-image writes nothing.
 */
export function batchOf(
  undo: { devices: ReadonlyMap<string, Device | undefined>; keys: ReadonlyMap<string, AccessKeyRecord | undefined> },
  now: { devices: ReadonlyMap<string, Device>; keys: ReadonlyMap<string, AccessKeyRecord> },
): JournalBatch {
  const batch: Required<JournalBatch> = {
    devices: [],
    keys: [],
    deletedDevices: [],
    deletedKeys: [],
    deviceParts: [],
    keyParts: [],
  };
  for (const [id, before] of undo.devices) {
    const current = now.devices.get(id);
    if (current === before) continue;
    if (!current) batch.deletedDevices.push(id);
    else if (before && onlyParts(before, current, DEVICE_PART_FIELDS)) {
      const part: DevicePart = { id };
      if (current.connectionStatus !== before.connectionStatus) part.connectionStatus = current.connectionStatus;
      if (current.lastState !== before.lastState) part.lastState = current.lastState;
      if (part.connectionStatus || part.lastState) batch.deviceParts.push(part); // else: as on disk
    } else batch.devices.push(current);
  }
  for (const [id, before] of undo.keys) {
    const current = now.keys.get(id);
    if (current === before) continue;
    if (!current) batch.deletedKeys.push(id);
    else if (before && onlyParts(before, current, KEY_PART_FIELDS)) {
      if (current.lastUsed !== before.lastUsed) batch.keyParts.push({ id, lastUsed: current.lastUsed as string });
    } else batch.keys.push(current);
  }
  return batch;
}
