// The store over a document and its journal (lowdb-store.ts opens it; format and crash points:
// journal-format.ts). Writes append batch lines; compaction folds the journals into the document
// in the background; close() folds what is left.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { batchLine, batchOf, JOURNAL_DOC_FRACTION, JOURNAL_MIN_BYTES, rotatedGeneration } from './journal-format.ts';
import type { CommitHook, JournalWriter } from './journal-writer.ts';
import type { AccessKeyRecord, Device } from '../core/types.ts';
import { MemoryStore, type StoreState } from './memory-store.ts';
import type { StoreData } from './store.ts';
import { UndoJournal } from './undo-journal.ts';
import type { RecordIndex } from './validate-data.ts';
import { WriteCoalescer } from './write-coalescer.ts';

export interface JournaledStoreOptions {
  /** Where a failed write or compaction is reported (default: stderr). Never given a secret. */
  log?: (line: string) => void;
  // For tests: observe writes and inject failures.
  /** Called after each completed write: a journal append, or the document (a compaction). */
  onWrite?: (info: { bytes: number; file: 'journal' | 'document' }) => void;
  /**
   * Called before a batch is appended to the journal (with the journal's path): throwing fails
   * that write, as a full disk would; waiting holds it.
   */
  beforeCommit?: CommitHook;
  /** Compact once the journals hold this many bytes (tests; default: journal-format.ts's bound). */
  compactAtBytes?: number;
}

interface Parts {
  dir: string;
  /** Document + replayed journals, validated: owned by the store from now on. */
  data: StoreData;
  /** `data`'s records indexed (validate-data.ts's checkStoreData), owned likewise. */
  index?: RecordIndex | undefined;
  /** Writes the document (atomically, in slices) and knows its last size. */
  document: { write(data: StoreData): Promise<void>; readonly bytes: number };
  writer: JournalWriter;
  /** Journal bytes not yet folded into the document. */
  unfoldedBytes: number;
  log: (line: string) => void;
  options: JournaledStoreOptions;
}

/**
 * The document as the disk has it while the changes in `pending` are not written yet: their
 * records as they were before (a compaction's snapshot). Shares the frozen records.
 */
function durableData(state: StoreState, applicationId: string, pending: UndoJournal, journal: number): StoreData {
  const data = state.toData(applicationId);
  data.journal = journal;
  if (pending.size === 0) return data;
  const devices: Device[] = [];
  for (const d of data.devices) if (!pending.devices.has(d.id)) devices.push(d);
  for (const before of pending.devices.values()) if (before) devices.push(before);
  const keys: AccessKeyRecord[] = [];
  for (const k of data.keys) if (!pending.keys.has(k.id)) keys.push(k);
  for (const before of pending.keys.values()) if (before) keys.push(before);
  data.devices = devices;
  data.keys = keys;
  return data;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class JournaledStore extends MemoryStore {
  readonly #p: Parts;
  readonly #writes: WriteCoalescer;
  #writer: JournalWriter;
  #unfolded: number;
  /** Compact once #unfolded reaches this (raised after a failed compaction, so it is not retried per write). */
  #compactAt: number;
  #compacting: Promise<void> | null = null;

  constructor(parts: Parts) {
    // The data was just parsed from the files: nobody else holds it.
    super(parts.data.applicationId, parts.data, true, parts.index);
    this.#p = parts;
    this.#writer = parts.writer;
    this.#unfolded = parts.unfoldedBytes;
    this.#compactAt = this.#bound();
    this.state.journal = new UndoJournal();
    this.#writes = new WriteCoalescer(() => this.#write());
  }

  #bound(): number {
    const forced = this.#p.options.compactAtBytes;
    if (forced !== undefined) return forced;
    return Math.max(JOURNAL_MIN_BYTES, Math.round(this.#p.document.bytes * JOURNAL_DOC_FRACTION));
  }

  /** Appends everything changed so far as one journal line; on failure puts memory back, then rejects. */
  async #write(): Promise<void> {
    // The batch is built before the first await; changes made while it is being written are
    // journalled afresh, for the next one.
    const covered = this.state.journal ?? new UndoJournal();
    this.state.journal = new UndoJournal();
    const line = batchLine(batchOf(covered, this.state));
    if (line !== null) {
      try {
        const bytes = await this.#writer.append(line, this.#p.options.beforeCommit);
        this.#unfolded += bytes;
        this.#p.options.onWrite?.({ bytes, file: 'journal' });
      } catch (err) {
        const undo = UndoJournal.merge(covered, this.state.journal);
        this.state.restore(undo);
        this.state.journal = new UndoJournal();
        this.#p.log(
          `keyport: ${message(err)}; ${undo.size} changed record(s) taken back, the store is unchanged on disk`,
        );
        throw err;
      }
    }
    if (this.#compacting === null && this.#unfolded >= this.#compactAt) {
      const started = await this.#rotate();
      if (started) this.#compacting = started.done.finally(() => (this.#compacting = null));
    }
  }

  /**
   * Starts a new journal generation (called between two appends) and returns the write of the
   * document that folds the older ones in, or null when the rotation failed (logged; retried later).
   */
  async #rotate(): Promise<{ done: Promise<void> } | null> {
    try {
      this.#writer = await this.#writer.rotate();
    } catch (err) {
      this.#p.log(`keyport: cannot start a new journal for compaction (${message(err)}); the journal keeps growing`);
      this.#compactAt = this.#unfolded + this.#bound();
      return null;
    }
    const folded = this.#unfolded;
    this.#unfolded = 0;
    // What the disk holds right now: the changes made since this append started are not in it
    // (they go to the new journal), so their records go in as they were before.
    const snapshot = durableData(
      this.state,
      this.applicationId,
      this.state.journal ?? new UndoJournal(),
      this.#writer.generation,
    );
    return { done: this.#fold(snapshot, folded) }; // not awaited here: appends go on meanwhile
  }

  /** Writes the document of generation `snapshot.journal` and removes the journals it holds. */
  async #fold(snapshot: StoreData, folded: number): Promise<void> {
    try {
      await this.#p.document.write(snapshot);
    } catch (err) {
      this.#unfolded += folded;
      this.#compactAt = this.#unfolded + this.#bound();
      this.#p.log(
        `keyport: compacting the journal into keyport.json failed (${message(err)}); nothing is lost, the journal is replayed at start`,
      );
      return;
    }
    this.#compactAt = this.#bound();
    const below = snapshot.journal ?? 0;
    const names = await readdir(this.#p.dir).catch(() => [] as string[]);
    for (const name of names) {
      const generation = rotatedGeneration(name);
      if (generation !== null && generation < below) await rm(join(this.#p.dir, name), { force: true }).catch(() => {});
    }
  }

  protected override persist(lazy = false): Promise<void> {
    return lazy ? this.#writes.requestLazy() : this.#writes.request();
  }

  override async flush(): Promise<void> {
    await this.#writes.flush();
  }

  #closing: Promise<void> | undefined;

  /**
   * Refuses new writes, waits for the ones already made (rejects if they cannot be written), then
   * folds the journal into keyport.json, so a cleanly closed store is all in the document.
   */
  override close(): Promise<void> {
    this.closed = true;
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    let failure: { error: unknown } | null = null;
    await this.#writes.flush().catch((error: unknown) => (failure = { error }));
    await this.#compacting;
    if (failure === null && this.#unfolded > 0) {
      const fold = await this.#rotate();
      await fold?.done;
    }
    if (failure !== null) throw (failure as { error: unknown }).error;
  }
}
