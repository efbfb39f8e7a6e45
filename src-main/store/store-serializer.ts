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
