import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { STATE_HISTORY } from '../../../src-main/service/telemetry.ts';

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

describe('Telemetry.acceptReport (MQTT state reports)', () => {
  it('stores the merged last state at once and keeps the last STATE_HISTORY reports, in order', async () => {
    const s = service();
    const d = await s.devices.create({ name: 'd' });
    const total = STATE_HISTORY + STATE_HISTORY / 2 + 3;
    for (let n = 1; n <= total; n++) {
      const intake = s.telemetry.acceptReport(d.id, JSON.stringify({ data: n === 1 ? { a: 0, n } : { n } }));
      expect(intake.stored).toBe(true);
      expect(s.store.getDevice(d.id)?.lastState?.data).toEqual({ a: 0, n });
    }
    const history = s.telemetry.history(d.id);
    expect(history).toHaveLength(STATE_HISTORY);
    expect(history.map((h) => h.data.n)).toEqual(
      Array.from({ length: STATE_HISTORY }, (_, i) => total - STATE_HISTORY + 1 + i),
    );
  });

  it('is refused (not stored) once the store is closed', async () => {
    const s = service();
    const d = await s.devices.create({ name: 'd' });
    await s.store.close();
    const intake = s.telemetry.acceptReport(d.id, '{"data":{"a":1}}');
    expect(intake.stored).toBe(false);
    await expect(intake.durable).rejects.toThrow(/closed/);
    expect(s.store.getDevice(d.id)?.lastState).toBeUndefined();
  });
});
