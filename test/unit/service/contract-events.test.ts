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
