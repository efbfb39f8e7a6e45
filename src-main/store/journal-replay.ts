// Opening the journals of a data directory and replaying them onto the document just read
// (format and crash points: journal-format.ts). Pure bookkeeping over validated values: every
// line was checked by journal-reader.ts; what is left to check is what spans records: a public
// key used by two access keys, at the end of each batch (within a batch the records are the
// store's state after it, so a key string may move from one record to another), and a
// bookkeeping part whose record is not there to take it.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccessKeyRecord, Device } from '../core/types.ts';
import { JOURNAL_FILE, rotatedGeneration, type DevicePart, type JournalBatch, type KeyPart } from './journal-format.ts';
import { JournalFileError, readJournal, type JournalContents } from './journal-reader.ts';
import { StoreFileError, type StoreData } from './store.ts';
import type { RecordIndex } from './validate-data.ts';

export interface OpenedJournals {
  /** Rotated journal files already folded into the document (a crash after its rename): remove. */
  stale: string[];
  /** Journal files replayed, oldest first, with what they hold. */
  replayed: Array<{ file: string; contents: JournalContents }>;
  /** keyport.journal as found (null when absent): appends go on in it. */
  current: { file: string; contents: JournalContents } | null;
}

/** Reads every journal of `dir` that the document (whose `journal` is `docGeneration`) lacks. */
export async function readJournals(dir: string, docGeneration: number): Promise<OpenedJournals> {
  const names = await readdir(dir);
  const rotated = names
    .map((name) => ({ name, generation: rotatedGeneration(name) }))
    .filter((r): r is { name: string; generation: number } => r.generation !== null)
    .sort((a, b) => a.generation - b.generation);
  const out: OpenedJournals = { stale: [], replayed: [], current: null };
  const pending = rotated.filter((r) => {
    if (r.generation >= docGeneration) return true;
    out.stale.push(join(dir, r.name));
    return false;
  });
  const hasCurrent = names.includes(JOURNAL_FILE);
  const files = [...pending.map((r) => ({ file: join(dir, r.name), named: r.generation as number | null }))];
  if (hasCurrent) files.push({ file: join(dir, JOURNAL_FILE), named: null });
  let previous = docGeneration - 1;
  for (let i = 0; i < files.length; i++) {
    const { file, named } = files[i] as { file: string; named: number | null };
    const contents = await readJournal(file, i === files.length - 1);
    const generation = contents.generation;
    if (generation !== null) {
      if (named !== null && generation !== named)
        throw new JournalFileError(file, 1, `generation ${generation} does not match the file name (${named})`);
      if (generation <= previous)
        throw new JournalFileError(
          file,
          1,
          `generation ${generation} is not newer than ${previous < docGeneration ? 'keyport.json\'s "journal" ' + docGeneration : 'the journal before it'}`,
        );
      previous = generation;
    }
    if (named === null) out.current = { file, contents };
    else out.replayed.push({ file, contents });
  }
  if (out.current) out.replayed.push(out.current);
  return out;
}

/** Removes rotated journals the document already holds (best effort: they are skipped anyway). */
export async function removeStale(files: readonly string[]): Promise<void> {
  await Promise.all(files.map((f) => rm(f, { force: true }).catch(() => undefined)));
}

/**
 * Applies the journals' batches, in order, to `doc` (changed in place). Returns the batch count.
 * `index`: the document's records indexed (validate-data.ts's checkStoreData), brought up to date
 * in place; without it one is built here.
 */
export function replayJournals(doc: StoreData, journals: OpenedJournals, index?: RecordIndex): number {
  let count = 0;
  for (const j of journals.replayed) count += j.contents.batches.length;
  if (count === 0) return 0;
  const m = index ?? indexOf(doc);
  for (const { file, contents } of journals.replayed) {
    for (const { line, batch } of contents.batches) applyBatch(batch, m, file, line);
  }
  doc.devices = Array.from(m.devices.values());
  doc.keys = Array.from(m.keys.values());
  return count;
}

function indexOf(doc: StoreData): RecordIndex {
  const devices = new Map<string, Device>();
  for (const d of doc.devices) devices.set(d.id, d);
  const keys = new Map<string, AccessKeyRecord>();
  const byKey = new Map<string, AccessKeyRecord>();
  for (const k of doc.keys) {
    keys.set(k.id, k);
    byKey.set(k.key, k);
  }
  return { devices, keys, byKey };
}

function applyBatch(batch: JournalBatch, m: RecordIndex, file: string, line: number): void {
  for (const id of batch.deletedDevices ?? []) m.devices.delete(id);
  for (const d of batch.devices ?? []) m.devices.set(d.id, d);
  const unhook = (id: string): void => {
    const previous = m.keys.get(id);
    if (previous && m.byKey.get(previous.key)?.id === id) m.byKey.delete(previous.key);
  };
  for (const id of batch.deletedKeys ?? []) {
    unhook(id);
    m.keys.delete(id);
  }
  const keys = batch.keys ?? [];
  for (const k of keys) unhook(k.id);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as AccessKeyRecord;
    const holder = m.byKey.get(k.key);
    if (holder !== undefined && holder.id !== k.id)
      throw new JournalFileError(
        file,
        line,
        `keys[${i}].key: ${JSON.stringify(k.key)} is already used by access key ${holder.id}`,
      );
    m.keys.set(k.id, k);
    m.byKey.set(k.key, k);
  }
  // Parts go onto the records as this batch left them (a part's record is never also whole in it).
  const deviceParts = batch.deviceParts ?? [];
  for (let i = 0; i < deviceParts.length; i++) {
    const part = deviceParts[i] as DevicePart;
    const d = m.devices.get(part.id);
    if (!d) throw new JournalFileError(file, line, `deviceParts[${i}].id: no device ${part.id} to apply it to`);
    const next: Device = { ...d };
    if (part.connectionStatus) next.connectionStatus = part.connectionStatus;
    if (part.lastState) next.lastState = part.lastState;
    m.devices.set(part.id, next);
  }
  const keyParts = batch.keyParts ?? [];
  for (let i = 0; i < keyParts.length; i++) {
    const part = keyParts[i] as KeyPart;
    const k = m.keys.get(part.id);
    if (!k) throw new JournalFileError(file, line, `keyParts[${i}].id: no access key ${part.id} to apply it to`);
    const next: AccessKeyRecord = { ...k, lastUsed: part.lastUsed };
    m.keys.set(part.id, next);
    m.byKey.set(next.key, next);
  }
}

/** A journal without the document it continues: refused (its changes need their base). */
export function orphanJournalError(dir: string, journals: OpenedJournals): StoreFileError | null {
  const first = journals.replayed[0];
  if (!first) return null;
  return new StoreFileError(
    join(dir, 'keyport.json'),
    `missing, but ${first.file} holds changes to it: restore keyport.json, or move the journal away to start empty`,
  );
}
