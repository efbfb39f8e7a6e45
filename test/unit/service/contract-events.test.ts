import { describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { subscribeContractEvents } from '../../../src-main/service/contract-events.ts';

describe('device.changed from broker bookkeeping', () => {
  it('is sent at once, then at most once per interval per device, with the latest record', async () => {
    vi.useFakeTimers();
    try {
      const s = new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 1) });
      const d = await s.devices.create({ name: 'd' });
      const sent: unknown[] = [];
      const off = subscribeContractEvents(
        s,
        (event, payload) => {
          if (event === 'device.changed') sent.push(payload);
        },
        { deviceStatusMs: 250 },
      );
      for (let i = 0; i < 50; i++) await s.telemetry.recordState(d.id, JSON.stringify({ data: { n: i } }));
      expect(sent).toHaveLength(1); // the first, at once
      vi.advanceTimersByTime(250);
      expect(sent).toHaveLength(2); // one trailing event for the other 49
      expect((sent[1] as { lastState: { data: { n: number } } }).lastState.data.n).toBe(49);
      off();
    } finally {
      vi.useRealTimers();
    }
  });

  it('still sends user edits at once', async () => {
    const s = new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 1) });
    const d = await s.devices.create({ name: 'd' });
    const sent: string[] = [];
    const off = subscribeContractEvents(s, (event, payload) => {
      if (event === 'device.changed') sent.push((payload as { name: string }).name);
    });
    await s.devices.update(d.id, { name: 'a' });
    await s.devices.update(d.id, { name: 'b' });
    expect(sent).toEqual(['a', 'b']);
    off();
  });
});

describe('decisions', () => {
  const denied = { transport: 'tcp', action: 'connect', result: 'denied', reason: 'key.unknown', rule: 'r' } as const;

  it('go out as one decisions message per flush with every decision of the interval, oldest first', () => {
    vi.useFakeTimers();
    try {
      const s = new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 1) });
      const sent: { event: string; payload: unknown }[] = [];
      const off = subscribeContractEvents(s, (event, payload) => sent.push({ event, payload }), { flushMs: 100 });
      const seqs = Array.from({ length: 50 }, () => s.feed.record(denied).seq);
      expect(sent).toEqual([]); // nothing before the interval ends
      vi.advanceTimersByTime(100);
      expect(sent.map((m) => m.event)).toEqual(['decisions']);
      expect((sent[0]!.payload as { seq: number }[]).map((d) => d.seq)).toEqual(seqs);
      vi.advanceTimersByTime(500);
      expect(sent).toHaveLength(1); // no empty batches
      s.feed.record(denied);
      off(); // close sends what is pending
      expect(sent.map((m) => m.event)).toEqual(['decisions', 'decisions']);
      expect(sent[1]!.payload).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keep the newest maxDecisionsPerFlush of a burst', () => {
    vi.useFakeTimers();
    try {
      const s = new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 1) });
      const batches: { seq: number }[][] = [];
      const off = subscribeContractEvents(
        s,
        (event, payload) => {
          if (event === 'decisions') batches.push(payload as { seq: number }[]);
        },
        { maxDecisionsPerFlush: 10 },
      );
      const seqs = Array.from({ length: 35 }, () => s.feed.record(denied).seq);
      vi.advanceTimersByTime(100);
      expect(batches.map((b) => b.map((d) => d.seq))).toEqual([seqs.slice(-10)]);
      off();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('closing the subscription', () => {
  it('delivers a device status change still waiting for its interval, not drops it', async () => {
    vi.useFakeTimers();
    try {
      const s = new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 1) });
      const d = await s.devices.create({ name: 'd' });
      const sent: { lastState?: { data: { n: number } } }[] = [];
      const off = subscribeContractEvents(
        s,
        (event, payload) => {
          if (event === 'device.changed') sent.push(payload as (typeof sent)[number]);
        },
        { deviceStatusMs: 250 },
      );
      await s.telemetry.recordState(d.id, JSON.stringify({ data: { n: 1 } }));
      await s.telemetry.recordState(d.id, JSON.stringify({ data: { n: 2 } })); // waits for the interval
      expect(sent.map((x) => x.lastState?.data.n)).toEqual([1]);
      off();
      expect(sent.map((x) => x.lastState?.data.n)).toEqual([1, 2]);
      vi.advanceTimersByTime(1000);
      expect(sent).toHaveLength(2); // and nothing after close
    } finally {
      vi.useRealTimers();
    }
  });
});
