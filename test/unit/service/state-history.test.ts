import { describe, expect, it } from 'vitest';
import { StateHistory } from '../../../src-main/service/state-history.ts';

const report = (n: number, pad = 0) => JSON.stringify({ data: { n, s: 'x'.repeat(pad), nested: { n } } });

describe('StateHistory', () => {
  it('keeps the last `capacity` reports in order, parsed again on read, across arena compactions', () => {
    const h = new StateHistory(50);
    // Sizes vary (the arena grows and shrinks); payloads are slices of a larger buffer, as a socket read gives.
    for (let n = 1; n <= 1000; n++) {
      const text = report(n, (n * 37) % 300);
      const big = Buffer.from(`garbage-before${text}garbage-after`);
      const payload = big.subarray(14, 14 + Buffer.byteLength(text));
      h.push(`t${n}`, payload);
      big.fill(0); // the broker's buffer is reused: the history has its own copy
    }
    const list = h.list();
    expect(list).toHaveLength(50);
    expect(list.map((s) => s.time)).toEqual(Array.from({ length: 50 }, (_, i) => `t${951 + i}`));
    expect(list.map((s) => s.data)).toEqual(
      Array.from({ length: 50 }, (_, i) => JSON.parse(report(951 + i, ((951 + i) * 37) % 300)).data),
    );
  });

  it('keeps the right bytes when reports grow large, then small again (the arena grows, then shrinks)', () => {
    const h = new StateHistory(10);
    for (let n = 1; n <= 40; n++) h.push(`big${n}`, Buffer.from(report(n, 20_000)));
    for (let n = 1; n <= 200; n++) h.push(`small${n}`, Buffer.from(report(n)));
    expect(h.list()).toEqual(
      Array.from({ length: 10 }, (_, i) => ({ time: `small${191 + i}`, data: JSON.parse(report(191 + i)).data })),
    );
    h.push('last', Buffer.from(report(0, 50_000)));
    expect(h.list().at(-1)).toEqual({ time: 'last', data: JSON.parse(report(0, 50_000)).data });
    expect(h.list()[0]?.time).toBe('small192');
  });

  it('keeps string payloads as they are (a lone surrogate survives), mixed with buffers', () => {
    const h = new StateHistory(4);
    h.push('0', '{"data":{"dropped":1}}');
    h.push('a', '{"data":{"s":"\ud800"}}');
    h.push('b', Buffer.from('{"data":{"é":"ü"}}'));
    h.push('c', '{"data":{"x":1},"time":5}');
    h.push('d', Buffer.from('\ufeff{"data":{"bom":true}}'));
    expect(h.list()).toEqual([
      { time: 'a', data: { s: '\ud800' } },
      { time: 'b', data: { é: 'ü' } },
      { time: 'c', data: { x: 1 } },
      { time: 'd', data: { bom: true } },
    ]);
    expect(h.list()[0]?.data).not.toBe(h.list()[0]?.data); // fresh objects on every read
  });

  it('is empty until the first report', () => {
    expect(new StateHistory(5).list()).toEqual([]);
  });
});
