// Reading a journal file back (format: journal-format.ts). Every line is checked like the
// document: JSON, no prototype keys, the batch's shape, each record and each bookkeeping part
// with validate-data.ts (whether a part's record exists is journal-replay.ts's check). A
// problem stops Keyport naming the file and the line (`…/keyport.journal:7: devices[0].name: …`);
// the file is never rewritten.
//
// The one exception is the LAST line of the newest journal when it is incomplete: no newline at
// its end, or not JSON at all. Only a crash in the middle of an append leaves that, and a batch is
// acknowledged only after its whole line is fsynced, so what is dropped was never acknowledged.
// (A last line that IS JSON but breaks a rule is refused like any other.)
import { readFile } from 'node:fs/promises';
import { findPrototypeKey, prototypeKeyMessage } from '../core/prototype-keys.ts';
import { parseWith } from '../core/schemas/schema-errors.ts';
import { JournalBatch as BatchSchema, JournalHeader } from '../core/schemas/store-file-schema.ts';
import type { JournalBatch } from './journal-format.ts';
import { StoreFileError } from './store.ts';
import { validateDevice, validateDevicePart, validateKeyPart, validateKeyRecord } from './validate-data.ts';

/** A journal line Keyport cannot use; `line` counts from 1. The file is left untouched. */
export class JournalFileError extends StoreFileError {
  constructor(
    file: string,
    readonly line: number,
    problem: string,
  ) {
    super(file, `line ${line}: ${problem}`);
    this.message = `${file}:${line}: ${problem}`;
    this.name = 'JournalFileError';
  }
}

export interface JournalContents {
  /** The header's generation; null only for a newest journal whose header line was cut off. */
  generation: number | null;
  /** The batches in order, with their line numbers (for messages). */
  batches: Array<{ line: number; batch: JournalBatch }>;
  /** Bytes up to the end of the last line kept: appends go on from here. */
  validBytes: number;
  /** The line number of an incomplete last line that was dropped, if any. */
  droppedLine: number | null;
}

const STYLE = { requiredUsesRule: true, separator: ': ' } as const;

function checkBatch(value: unknown): string | null {
  const frame = parseWith(BatchSchema, value, STYLE);
  if (!frame.ok) return frame.errors[0]?.message ?? 'not a journal batch';
  const batch = frame.value;
  const devices = (batch.devices ?? []) as unknown[];
  for (let i = 0; i < devices.length; i++) {
    const problem = validateDevice(devices[i], `devices[${i}]`);
    if (problem) return problem;
  }
  const keys = (batch.keys ?? []) as unknown[];
  for (let i = 0; i < keys.length; i++) {
    const problem = validateKeyRecord(keys[i], `keys[${i}]`);
    if (problem) return problem;
  }
  const deviceParts = (batch.deviceParts ?? []) as unknown[];
  for (let i = 0; i < deviceParts.length; i++) {
    const problem = validateDevicePart(deviceParts[i], `deviceParts[${i}]`);
    if (problem) return problem;
  }
  const keyParts = (batch.keyParts ?? []) as unknown[];
  for (let i = 0; i < keyParts.length; i++) {
    const problem = validateKeyPart(keyParts[i], `keyParts[${i}]`);
    if (problem) return problem;
  }
  return null;
}

/**
 * Reads and checks `file`. `newest`: this is the last journal replayed, whose incomplete last line
 * may be dropped (see above). Throws JournalFileError for anything else that is wrong.
 */
export async function readJournal(file: string, newest: boolean): Promise<JournalContents> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new StoreFileError(file, `cannot be read: ${(err as Error).message}`);
  }
  const out: JournalContents = { generation: null, batches: [], validBytes: 0, droppedLine: null };
  let start = 0;
  for (let line = 1; start < buf.length; line++) {
    const nl = buf.indexOf(10, start);
    const end = nl < 0 ? buf.length : nl;
    const text = buf.toString('utf8', start, end);
    let value: unknown;
    let parseError: string | null = null;
    try {
      value = JSON.parse(text);
    } catch (err) {
      parseError = (err as Error).message;
    }
    const last = nl < 0 || nl === buf.length - 1;
    if (last && newest && (nl < 0 || parseError !== null)) {
      out.droppedLine = line; // cut off by a crash mid-append: never acknowledged
      break;
    }
    if (nl < 0) throw new JournalFileError(file, line, 'incomplete line (no end of line) before a newer journal');
    if (parseError !== null) throw new JournalFileError(file, line, `not valid JSON: ${parseError}`);
    const proto = findPrototypeKey(value, '');
    if (proto !== null) throw new JournalFileError(file, line, prototypeKeyMessage(proto));
    if (line === 1) {
      const header = parseWith(JournalHeader, value, STYLE);
      if (!header.ok) throw new JournalFileError(file, line, header.errors[0]?.message ?? 'not a journal header');
      out.generation = header.value.generation;
    } else {
      const problem = checkBatch(value);
      if (problem) throw new JournalFileError(file, line, problem);
      out.batches.push({ line, batch: value as JournalBatch });
    }
    start = nl + 1;
    out.validBytes = start;
  }
  if (out.generation === null && out.droppedLine === null && !newest) {
    throw new JournalFileError(file, 1, 'empty journal (expected a header line)');
  }
  return out;
}
