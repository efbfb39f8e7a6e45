// docs/design.md §7 fleets: 500 simulated devices, each with its OWN single-device key, created in one step,
// connecting and reporting to the real broker (port 0) in this process. Prints the time to create
// and to connect them all and the memory it took (devices + keys + clients + broker sessions).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetSummary } from '../../src-main/simulator/types.ts';
import { within } from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

const N = 500;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ simulator: { backoff: { baseMs: 50 } } });
});
afterAll(() => h?.stop());

describe('a fleet of 500 devices with per-device keys', () => {
  // 60 s: about 3-6 s here alone (500 devices and keys created, 500 TLS-free MQTT connects, 500
  // reports); npm test runs it beside other files on 2 cores, which stretches it several-fold.
  it('creates, connects and reports all of them, then stops and removes them', { timeout: 60_000 }, async () => {
    const sim = h.rt.simulator;
    const progress: FleetSummary[] = [];
    const offFleet = sim.events.on('fleet', (f) => progress.push(f));
    // Every device's first report, stored (state writes are asynchronous).
    const reported = new Set<string>();
    let allReported: () => void = () => {};
    const reportedAll = new Promise<void>((resolve) => (allReported = resolve));
    const offState = h.rt.service.events.on('device.state', ({ deviceId }) => {
      reported.add(deviceId);
      if (reported.size === N) allReported();
    });
    const mem0 = process.memoryUsage();
    const t0 = performance.now();
    let tCreated = 0;
    const offPhase = sim.events.on('fleet', (f) => {
      if (f.phase === 'connecting' && !tCreated) tCreated = performance.now();
    });
    const summary = await sim.fleets.create({
      count: N,
      namePrefix: 'Fleet test',
      behaviour: {
        attributes: { temp: { kind: 'float', min: 18, max: 26 }, humidity: { kind: 'int', min: 30, max: 70 } },
        everySeconds: 60,
      },
    });
    const tConnected = performance.now();
    // 20 s: the reports follow the connects within a second or two even under load; this bound
    // exists only to name what was missing (the count) instead of a bare test timeout.
    await within(reportedAll, 20_000, `all ${N} first reports (got ${reported.size})`);
    const tReported = performance.now();
    const mem1 = process.memoryUsage();
    offFleet();
    offPhase();
    offState();

    expect(summary).toMatchObject({
      size: N,
      created: N,
      connected: N,
      phase: 'running',
      byReason: { 'connect.accepted': N },
    });
    expect(h.rt.broker.sessions.size).toBeGreaterThanOrEqual(N);
    // One key per device: N distinct keys, each scoped to exactly its own device.
    const members = sim.all().filter((s) => s.fleetId === summary.id);
    expect(members).toHaveLength(N);
    const keys = members.map((s) => h.rt.service.keys.get(s.keyId!));
    expect(new Set(keys.map((k) => k.id)).size).toBe(N);
    expect(new Set(keys.map((k) => k.key)).size).toBe(N);
    expect(new Set(members.map((s) => s.config.credentials.secret)).size).toBe(N);
    keys.forEach((k, i) => expect(k).toMatchObject({ deviceIds: [members[i]!.deviceId], createdVia: 'simulator' }));
    expect(members.every((s) => s.connected && (s.snapshot(0).reports ?? 0) >= 1)).toBe(true);
    expect(members.every((s) => reported.has(s.deviceId))).toBe(true);
    // Each device declares what its generators report (Losant refuses undeclared attributes), and
    // its reports were stored against those declarations.
    for (const s of members) {
      expect(h.rt.service.devices.get(s.deviceId).attributes).toEqual([
        { name: 'temp', dataType: 'number' },
        { name: 'humidity', dataType: 'number' },
      ]);
    }
    // Progress: created n/N while creating, then connecting, then running.
    const creating = progress.filter((p) => p.phase === 'creating').map((p) => p.created);
    expect(creating.at(-1)).toBe(N);
    expect(creating).toEqual([...creating].sort((a, b) => a - b));
    expect(progress.some((p) => p.phase === 'connecting')).toBe(true);
    expect(progress.at(-1)?.phase).toBe('running');

    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    const heap = mem1.heapUsed - mem0.heapUsed;
    const rss = mem1.rss - mem0.rss;
    console.log(
      `fleet: ${N} devices; created (devices + keys) in ${Math.round(tCreated - t0)} ms; ` +
        `connected all in ${Math.round(tConnected - tCreated)} ms (${Math.round(tConnected - t0)} ms from the start); ` +
        `all first reports stored after ${Math.round(tReported - t0)} ms; ` +
        `memory +${mb(heap)} MB heap, +${mb(rss)} MB rss = ${(heap / N / 1024).toFixed(1)} KB heap / ${(rss / N / 1024).toFixed(1)} KB rss per device ` +
        '(client, broker session, device and key records, all in this process)',
    );

    await expect(sim.remove(members[0]!.id)).rejects.toThrow(/belongs to fleet .*: remove the fleet instead/);
    const stopped = await sim.fleets.stop(summary.id);
    expect(stopped).toMatchObject({ connected: 0, phase: 'stopped' });
    await sim.fleets.remove(summary.id);
    expect(sim.all().filter((s) => s.fleetId === summary.id)).toHaveLength(0);
    expect(h.rt.service.devices.list().filter((d) => d.name.startsWith('Fleet test'))).toHaveLength(0);
    expect(h.rt.service.keys.list().filter((k) => k.name?.startsWith('Simulator: Fleet test'))).toHaveLength(0);
  });
});
