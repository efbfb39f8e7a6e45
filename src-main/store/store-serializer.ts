// keyport.json as a stream of text slices, each made in a few milliseconds, so that writing a big
// store never stalls the broker (issue 17 item 3; docs/design.md §11).
//
// JSON.stringify of a 100,000-key, 100,000-device document is one synchronous call of about half a
// second (plus its pretty-printing), during which no MQTT client is served. Here the document is
// serialised record by record, and after every SLICE_MS of work the generator hands its text to
// the file writer and waits for the event loop (setImmediate) before going on: timers, sockets
// and other requests run between slices.
//
// Consistency: the caller passes a StoreData whose arrays were built synchronously when the write
// started (StoreState.toData) and whose records are frozen (memory-store.ts), so changes made
// while the slices are being written cannot leak into this write; they ride in the next one.
//
// Format: compact JSON, one record per line (about 40 % smaller than 2-space indentation and
// quicker to parse at start; still diffable line by line). Any JSON reader opens it.
import type { FileHandle } from 'node:fs/promises';
import type { StoreData } from './store.ts';

/** Work per slice before yielding to the event loop (ms). */
export const SLICE_MS = 2;
/** How many records are serialised between two clock reads. */
const CLOCK_EVERY = 32;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The document as text slices; joined they are the whole file, ending with a newline. */
export async function* serializeStoreData(data: StoreData, sliceMs = SLICE_MS): AsyncGenerator<string> {
  const journal = data.journal === undefined ? '' : `,"journal":${JSON.stringify(data.journal)}`;
  let parts: string[] = [
    `{"version":${JSON.stringify(data.version)},"applicationId":${JSON.stringify(data.applicationId)}${journal},"devices":[`,
  ];
  let started = performance.now();
  const sections: Array<[readonly unknown[], string]> = [
    [data.devices, '],"keys":['],
    [data.keys, ']}\n'],
  ];
  for (const [records, close] of sections) {
    for (let i = 0; i < records.length; i++) {
      parts.push(`${i === 0 ? '\n' : ',\n'}${JSON.stringify(records[i])}`);
      if (i % CLOCK_EVERY === CLOCK_EVERY - 1 && performance.now() - started >= sliceMs) {
        yield parts.join('');
        parts = [];
        await nextTurn();
        started = performance.now();
      }
    }
    parts.push(records.length > 0 ? `\n${close}` : close);
  }
  yield parts.join('');
}

const HEADER_END = '"devices":[';
const BETWEEN = '],"keys":[';
const END = ']}';
/** Bytes read at a time by readStoreLines. */
const CHUNK = 4 << 20;

/**
 * Reads a document in the format written above, line by line, into the same value JSON.parse of
 * the whole file would give, without ever holding the file as one string (a 100,000-key store is
 * an 85 MB string, and JSON.parse of it peaks at about twice that). Returns null when the file is
 * not exactly in that format (hand-edited, pretty-printed, empty lists, a record split over lines,
 * not JSON): the caller then reads it whole, which also names what is wrong. The value still has
 * to be validated like any parsed document.
 */
export async function readStoreLines(handle: FileHandle): Promise<unknown> {
  let header: Record<string, unknown> | null = null;
  const lists: unknown[][] = [[], []];
  let section = 0; // 0: devices, 1: keys, 2: after the end
  let lastHadComma = false; // the previous record line ended with a comma
  let lineNo = 0;
  const onLine = (line: string): boolean => {
    lineNo++;
    if (lineNo === 1) {
      if (!line.startsWith('{"version":') || !line.endsWith(HEADER_END)) return false;
      const text = line.slice(0, -HEADER_END.length).replace(/,$/, '}');
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
      header = value as Record<string, unknown>;
      return true;
    }
    if (section === 2) return line === '';
    const list = lists[section] as unknown[];
    if (line === BETWEEN || line === END) {
      if (list.length === 0 || lastHadComma) return false;
      if (line === BETWEEN && section !== 0) return false;
      if (line === END && section !== 1) return false;
      section++;
      lastHadComma = false;
      return true;
    }
    if (list.length > 0 && !lastHadComma) return false;
    lastHadComma = line.endsWith(',');
    list.push(JSON.parse(lastHadComma ? line.slice(0, -1) : line));
    return true;
  };
  const buf = Buffer.allocUnsafe(CHUNK);
  let rest: Buffer | null = null;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      let start = 0;
      if (rest) {
        // Only the line cut by the chunk boundary is joined (not the whole chunk: that copy was
        // a tenth of the load).
        const nl = chunk.indexOf(10);
        if (nl < 0) {
          rest = Buffer.concat([rest, chunk]);
          continue;
        }
        if (!onLine(Buffer.concat([rest, chunk.subarray(0, nl)]).toString('utf8'))) return null;
        rest = null;
        start = nl + 1;
      }
      for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
        if (!onLine(chunk.toString('utf8', start, nl))) return null;
        start = nl + 1;
      }
      rest = start < chunk.length ? Buffer.from(chunk.subarray(start)) : null;
    }
  } catch {
    return null; // a line that is not JSON: the whole-file read says where
  }
  if (rest !== null || section !== 2 || header === null) return null;
  return { ...(header as Record<string, unknown>), devices: lists[0], keys: lists[1] };
}
