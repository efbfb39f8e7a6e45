// keyport.json is written in slices (store-serializer.ts): the slices join into the whole document
// and the event loop runs between them (docs/design.md §11).
import { describe, expect, it } from 'vitest';
import { serializeStoreData } from '../../../src-main/store/store-serializer.ts';
import { STORE_VERSION, type StoreData } from '../../../src-main/store/store.ts';
import { validateStoreData } from '../../../src-main/store/validate-data.ts';
import { makeDevice, makeKeyWithSecret } from '../../helpers/fixtures.ts';

function doc(devices: number, keys: number): StoreData {
  return {
    version: STORE_VERSION,
    applicationId: 'a'.repeat(24),
    devices: Array.from({ length: devices }, (_, i) =>
      makeDevice({ name: `d${i}`, tags: [{ key: 'n', value: String(i) }] }),
    ),
    keys: Array.from({ length: keys }, () => makeKeyWithSecret().record),
  };
}

async function collect(data: StoreData, sliceMs?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const s of serializeStoreData(data, sliceMs)) out.push(s);
  return out;
}

describe('serializeStoreData', () => {
  it('joins into the document, valid JSON that opens again, ending with a newline', async () => {
    for (const [d, k] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [3, 2],
    ] as const) {
      const data = doc(d, k);
      const text = (await collect(data)).join('');
      expect(text.endsWith('\n')).toBe(true);
      const parsed = JSON.parse(text) as unknown;
      expect(parsed).toEqual(data);
      expect(validateStoreData(parsed)).toBeNull();
    }
  });

  it('hands the event loop a turn between slices (a big store is not one synchronous call)', async () => {
    const data = doc(300, 300);
    let turns = 0;
    let stop = false;
    const tick = (): void => {
      if (stop) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const slices: string[] = [];
    // sliceMs 0: yield after every clock check, so the slicing shows on any machine.
    for await (const s of serializeStoreData(data, 0)) {
      slices.push(s);
    }
    stop = true;
    expect(slices.length).toBeGreaterThan(10);
    // The immediate chain advanced while the document was being serialised.
    expect(turns).toBeGreaterThan(slices.length / 2);
    expect(JSON.parse(slices.join(''))).toEqual(data);
  });
});
