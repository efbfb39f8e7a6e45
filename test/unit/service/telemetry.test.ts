import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';
import { KeyportService } from '../../../src-main/service/service.ts';

function service() {
  return new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 7) });
}

describe('Telemetry.recordState', () => {
  it('merges attributes into the last state and keeps a history', async () => {
    const s = service();
    const d = await s.devices.create({ name: 'd' });
    expect((await s.telemetry.recordState(d.id, '{"data":{"a":1},"time":1000000000000}')).reason).toBe('state.stored');
    await s.telemetry.recordState(d.id, '{"data":{"b":2},"time":1000000001000}');
    expect(s.store.getDevice(d.id)?.lastState).toEqual({
      time: new Date(1000000001000).toISOString(),
      data: { a: 1, b: 2 },
    });
    expect(s.telemetry.history(d.id)).toHaveLength(2);
  });

  it('keeps a late report in the history without moving the last state back in time', async () => {
    const s = service();
    const d = await s.devices.create({ name: 'd' });
    await s.telemetry.recordState(d.id, '{"data":{"a":2},"time":1000000002000}');
    const late = await s.telemetry.recordState(d.id, '{"data":{"a":1},"time":1000000001000}');
    expect(late.allowed).toBe(true);
    expect(s.store.getDevice(d.id)?.lastState).toEqual({ time: new Date(1000000002000).toISOString(), data: { a: 2 } });
    expect(s.telemetry.history(d.id)).toHaveLength(2);
  });

  it('refuses invalid state without storing it', async () => {
    const s = service();
    const d = await s.devices.create({ name: 'd' });
    const r = await s.telemetry.recordState(d.id, '{"data":5}');
    expect(r).toMatchObject({ allowed: false, reason: 'state.invalid' });
    expect(s.store.getDevice(d.id)?.lastState).toBeUndefined();
    expect(s.telemetry.history(d.id)).toHaveLength(0);
  });
});
