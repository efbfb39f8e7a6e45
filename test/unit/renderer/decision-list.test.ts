import { describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../../src-main/core/decision-event.ts';
import { appendDecisions, MAX_DECISIONS } from '../../../src-renderer/lib/decision-list.ts';

const ev = (seq: number): DecisionEvent => ({
  seq,
  time: new Date(0).toISOString(),
  transport: 'tcp',
  action: 'connect',
  result: 'allowed',
  reason: 'connect.accepted',
  rule: 'r',
});

describe('appendDecisions', () => {
  it('appends a batch, skipping what the first decisions.list already returned', () => {
    const list = [ev(1), ev(2), ev(3)];
    expect(appendDecisions(list, [ev(2), ev(3), ev(4), ev(5)]).map((d) => d.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('returns the same array when nothing is new (no redraw)', () => {
    const list = [ev(1), ev(2)];
    expect(appendDecisions(list, [ev(1)])).toBe(list);
    expect(appendDecisions(list, [])).toBe(list);
  });

  it('keeps the newest MAX_DECISIONS', () => {
    const list = Array.from({ length: MAX_DECISIONS }, (_, i) => ev(i));
    const next = appendDecisions(
      list,
      Array.from({ length: 10 }, (_, i) => ev(MAX_DECISIONS + i)),
    );
    expect(next).toHaveLength(MAX_DECISIONS);
    expect(next[0]!.seq).toBe(10);
    expect(next[next.length - 1]!.seq).toBe(MAX_DECISIONS + 9);
  });
});
