// keyport.json is written in slices (store-serializer.ts): the slices join into the whole document
// and the event loop runs between them (docs/design.md §11).
import { describe, expect, it } from 'vitest';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readStoreLines, serializeStoreData } from '../../../src-main/store/store-serializer.ts';
import { STORE_VERSION, type StoreData } from '../../../src-main/store/store.ts';
import { validateStoreData } from '../../../src-main/store/validate-data.ts';
import { makeDevice, makeKeyWithSecret, makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

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

describe('readStoreLines', () => {
  async function linesOf(text: string): Promise<unknown> {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir, 'doc.json'), text);
      const handle = await open(join(dir, 'doc.json'), 'r');
      try {
        return await readStoreLines(handle);
      } finally {
        await handle.close();
      }
    } finally {
      await removeTempDir(dir);
    }
  }

  it('reads what serializeStoreData wrote into what JSON.parse of the whole file gives (records over 4 MB chunks too)', async () => {
    for (const [d, k] of [
      [1, 1],
      [3, 2],
      [9000, 1],
    ] as const) {
      const data = { ...doc(d, k), journal: 3 };
      if (d > 1) data.devices[1] = makeDevice({ name: 'ü€ 🙂 '.repeat(20) }); // multi-byte characters
      const text = (await collect(data)).join('');
      expect(await linesOf(text)).toEqual(JSON.parse(text));
    }
  });

  it.each([
    ['empty lists (a header line of another shape)', (t: string) => t, [0, 0]],
    ['pretty-printed', (t: string) => JSON.stringify(JSON.parse(t), null, 2), [2, 2]],
    ['a missing comma between records', (t: string) => t.replace('},\n', '}\n'), [3, 1]],
    ['a comma after the last record', (t: string) => t.replace('}\n],"keys"', '},\n],"keys"'), [3, 1]],
    ['a record that is not JSON', (t: string) => t.replace('{"id"', '{id'), [3, 1]],
    ['cut short', (t: string) => t.slice(0, t.length - 4), [3, 1]],
    ['text after the end', (t: string) => `${t}{}\n`, [3, 1]],
  ])('returns null for a file not exactly in that format (%s): the caller reads it whole', async (_l, edit, [d, k]) => {
    const text = (await collect(doc(d as number, k as number))).join('');
    expect(await linesOf(edit(text))).toBeNull();
  });
});
