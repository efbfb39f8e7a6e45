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
  it("stores a device's first report of a turn at once, the rest merged when the turn ends; keeps the last STATE_HISTORY reports, in order", async () => {
    const s = service();
    const d = await s.devices.create({ name: 'd' });
    const total = STATE_HISTORY + STATE_HISTORY / 2 + 3;
    for (let n = 1; n <= total; n++) {
      const intake = s.telemetry.acceptReport(d.id, JSON.stringify({ data: n === 1 ? { a: 0, n } : { n } }));
      expect(intake.stored).toBe(true);
    }
    // Same turn: the first report is stored, the others are merged and waiting.
    expect(s.store.getDevice(d.id)?.lastState?.data).toEqual({ a: 0, n: 1 });
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(s.store.getDevice(d.id)?.lastState?.data).toEqual({ a: 0, n: total });
    const history = s.telemetry.history(d.id);
    expect(history).toHaveLength(STATE_HISTORY);
    expect(history.map((h) => h.data.n)).toEqual(
      Array.from({ length: STATE_HISTORY }, (_, i) => total - STATE_HISTORY + 1 + i),
    );
  });

  it('within one turn the last valid report wins, merged over the earlier ones; invalid and late ones change nothing', async () => {
    const s = service();
    const a = await s.devices.create({ name: 'a' });
    const b = await s.devices.create({ name: 'b' });
    const t = (ms: number) => new Date(1_000_000_000_000 + ms).toISOString();
    const report = (id: string, data: object, ms: number) =>
      s.telemetry.acceptReport(id, JSON.stringify({ data, time: 1_000_000_000_000 + ms }));
    expect(report(a.id, { x: 1, y: 1 }, 10).decision.reason).toBe('state.stored');
    expect(report(b.id, { z: 1 }, 10).decision.reason).toBe('state.stored');
    report(a.id, { y: 2 }, 20);
    const invalid = s.telemetry.acceptReport(a.id, '{"data":{"y":"ok","bad":null}}');
    expect(invalid.decision).toMatchObject({ allowed: false, reason: 'state.invalid' });
    expect(invalid.decision.rule).toMatch(/data\.bad/);
    const late = report(a.id, { x: 99, w: 99 }, 15);
    expect(late.decision.rule).toMatch(/older than the last state/);
    report(a.id, { w: 3 }, 30);
    report(b.id, { z: 2 }, 40);
    const durable = report(a.id, { x: 4 }, 40).durable;
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(s.store.getDevice(a.id)?.lastState).toEqual({ time: t(40), data: { x: 4, y: 2, w: 3 } });
    expect(s.store.getDevice(b.id)?.lastState).toEqual({ time: t(40), data: { z: 2 } });
    await durable;
    // Every valid report, the late one too, is in the history, in the order it came.
    expect(s.telemetry.history(a.id).map((h) => h.time)).toEqual([t(10), t(20), t(15), t(30), t(40)]);
    // The next turn starts from what the last one stored.
    report(a.id, { v: 5 }, 50);
    expect(s.store.getDevice(a.id)?.lastState).toEqual({ time: t(50), data: { x: 4, y: 2, w: 3, v: 5 } });
  });

  it('an HTTP report merges over the MQTT reports of the same turn, and device.status follows each store put', async () => {
    const s = service();
    const d = await s.devices.create({ name: 'd' });
    const seen: unknown[] = [];
    s.events.on('device.status', (dev) => seen.push(dev.lastState?.data));
    s.telemetry.acceptReport(d.id, '{"data":{"a":1}}');
    s.telemetry.acceptReport(d.id, '{"data":{"b":2}}');
    s.telemetry.acceptReport(d.id, '{"data":{"c":3}}');
    const http = s.telemetry.recordState(d.id, '{"data":{"d":4}}');
    expect(s.store.getDevice(d.id)?.lastState?.data).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    await http;
    expect(seen).toEqual([{ a: 1 }, { a: 1, b: 2, c: 3 }, { a: 1, b: 2, c: 3, d: 4 }]);
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

  it("answers a turn's merged reports of one decision with one frozen intake, and the next turn with another", async () => {
    const s = service();
    const d = await s.devices.create({ name: 'd' });
    const first = s.telemetry.acceptReport(d.id, '{"data":{"a":1}}');
    const m1 = s.telemetry.acceptReport(d.id, '{"data":{"a":2}}');
    const m2 = s.telemetry.acceptReport(d.id, '{"data":{"a":3}}');
    const wider = s.telemetry.acceptReport(d.id, '{"data":{"a":4,"b":1}}');
    expect(first).not.toBe(m1);
    expect(m2).toBe(m1);
    expect(Object.isFrozen(m1)).toBe(true);
    expect(m1).toMatchObject({ stored: true, decision: { reason: 'state.stored', rule: '1 attribute(s) stored' } });
    expect(wider).not.toBe(m1);
    expect(wider.decision.rule).toBe('2 attribute(s) stored');
    expect(wider.durable).toBe(m1.durable);
    await m1.durable;
    s.telemetry.acceptReport(d.id, '{"data":{"a":5}}');
    const next = s.telemetry.acceptReport(d.id, '{"data":{"a":6}}');
    expect(next).not.toBe(m1);
    expect(next.durable).not.toBe(m1.durable);
    await next.durable;
    expect(s.store.getDevice(d.id)?.lastState?.data).toEqual({ a: 6, b: 1 });
  });
});
