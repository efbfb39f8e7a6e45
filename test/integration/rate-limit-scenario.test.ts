// The "Rate limit" demo scenario (issue 14, docs/design.md §7 and §7a) end to end: the real broker
// in Losant limits mode, a real simulated device (mqtt.js over TCP, port 0), decisions from the
// feed. The limits' clock is injected (RuntimeOptions.now) and moved on here, so the 30 s ban
// expires without a 30 s wait. Also: the scenario refuses to run with limits off, and scenario
// tags cannot collide with the user's own devices (inclusive tag restrictions).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import { deviceMatches } from '../../src-main/core/device-scope.ts';
import { RESERVED_TAG_PREFIX, SIM_TAG } from '../../src-main/core/sim-marks.ts';
import { runScenario, scenarioInfo, waitForSim } from '../../src-main/simulator/scenarios.ts';
import type { SimulatedDevice } from '../../src-main/simulator/simulated-device.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
let clock = 5_000_000;

beforeAll(async () => {
  h = await startHarness({
    limits: 'losant',
    now: () => clock,
    simulator: { backoff: { baseMs: 20, jitter: 0 }, scenarioStepMs: 0 },
  });
});
afterAll(() => h?.stop());

const feedOf = (deviceId: string, pred: (e: DecisionEvent) => boolean = () => true) =>
  h.rt.service.feed.list().filter((e) => e.deviceId === deviceId && pred(e));

describe('the "Rate limit" scenario', () => {
  it('limit.topic-rate (31 messages in 15 s) -> limit.banned on reconnect -> accepted again once the 30 s ban is over', async () => {
    const run = await runScenario(h.rt.simulator, 'rate-limit');
    expect(run.sims.map((s) => s.config.name)).toEqual(['Rate limit: sensor']);
    const s = run.sims[0] as SimulatedDevice;
    const id = s.deviceId;

    const rate = await h.decision((e) => e.deviceId === id && e.reason === 'limit.topic-rate');
    expect(rate).toMatchObject({ action: 'publish', result: 'denied', topic: `losant/${id}/state` });
    expect(rate.rule).toContain(`31 messages in 15 s on losant/${id}/state`);
    expect(rate.rule).toContain('banned for 30 s (ban level 1)');
    const banned = await h.decision((e) => e.deviceId === id && e.reason === 'limit.banned');
    expect(banned).toMatchObject({ action: 'connect', result: 'denied' });
    expect(banned.rule).toContain('ban level 1');

    clock += 30_000; // the ban is over by the limits' clock
    const again = await h.decision((e) => e.deviceId === id && e.reason === 'connect.accepted' && e.seq > banned.seq);
    expect(again.result).toBe('allowed');
    await run.done;
    // 10 s: the reconnect follows at once; the bound names the awaited state instead of a bare test timeout.
    await waitForSim(s, (x) => x.connected, 10_000, 'the connect after the ban');

    // The order the card promises: accepted, throttled, banned, accepted again; one ban only.
    const order = feedOf(id, (e) => e.action === 'connect' || e.reason.startsWith('limit.')).map(
      (e): string => e.reason,
    );
    const first = (r: string, from = 0) => order.indexOf(r, from);
    expect(first('connect.accepted')).toBe(0);
    expect(first('limit.topic-rate')).toBeGreaterThan(0);
    expect(first('limit.banned')).toBeGreaterThan(first('limit.topic-rate'));
    expect(first('connect.accepted', first('limit.banned'))).toBeGreaterThan(first('limit.banned'));
    expect(feedOf(id, (e) => e.action === 'publish' && e.reason === 'limit.topic-rate')).toHaveLength(1);
    expect(feedOf(id, (e) => e.action === 'disconnect')[0]?.reason).toBe('limit.topic-rate');
    expect(h.rt.broker.losant.bans().some((b) => b.deviceId === id)).toBe(false);
    expect(s.snapshot().log.some((l) => /banned for 30 s more/.test(l.detail ?? ''))).toBe(true);

    // Every line of the card is in the simulation's broker-sourced log, in order where it says so.
    const log = s.snapshot().log.filter((l) => l.source === 'broker');
    const info = scenarioInfo().find((x) => x.name === 'rate-limit')!;
    expect(info.requires).toBe('losant-limits');
    for (const ex of info.expected) {
      const from = ex.after === undefined ? 0 : log.findIndex((l) => l.reason === ex.after);
      expect(from, `${ex.outcome}: ${ex.after} first`).toBeGreaterThanOrEqual(0);
      expect(
        log.slice(from).some((l) => l.reason === ex.reason),
        `${ex.outcome} (${ex.reason}); log: ${JSON.stringify(log.map((l) => l.reason))}`,
      ).toBe(true);
    }

    // Clear leaves nothing behind (the other scenarios' Clear is in sim-cleanup.test.ts).
    const keyId = s.keyId!;
    await h.rt.simulator.clearScenario('rate-limit', info.title);
    expect(h.rt.service.devices.list().filter((d) => d.tags.some((t) => t.key === SIM_TAG))).toEqual([]);
    expect(h.rt.service.keys.list().map((k) => k.id)).not.toContain(keyId);
    expect(h.rt.simulator.find(s.id)).toBeUndefined();
  });

  it('with limits off it refuses to run, says it needs limits mode, and makes nothing', async () => {
    const before = h.rt.service.devices.list().length;
    h.rt.broker.losant.mode = 'off';
    try {
      await expect(runScenario(h.rt.simulator, 'rate-limit')).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringContaining('needs Losant limits mode, which is off'),
      });
    } finally {
      h.rt.broker.losant.mode = 'losant';
    }
    expect(h.rt.service.devices.list()).toHaveLength(before);
  });
});

describe('scenario tags', () => {
  it("the tag-scope key's tags are reserved ones: the user's floor=2 / type=thermostat devices are not in its scope, nor scenario devices in the user's key", async () => {
    const mine = await h.device({
      name: 'my floor-2 thermostat',
      tags: [
        { key: 'type', value: 'thermostat' },
        { key: 'floor', value: '2' },
      ],
    });
    const run = await runScenario(h.rt.simulator, 'tag-scope');
    await run.done;
    const k = h.rt.service.keys.get(run.sims[0]!.keyId!);
    expect(k.deviceTags?.length).toBe(2);
    for (const t of k.deviceTags ?? []) expect(t.key?.startsWith(RESERVED_TAG_PREFIX)).toBe(true);
    expect(deviceMatches(k, mine)).toBe(false);
    const userKey = { deviceTags: [{ key: 'floor', value: '2' }] };
    for (const sim of run.sims) {
      const d = h.rt.service.devices.get(sim.deviceId);
      expect(deviceMatches(userKey, d), d.name).toBe(false);
      expect(d.tags.find((t) => t.key === SIM_TAG)?.value).toBe('scenario:tag-scope');
    }
    for (const sim of run.sims) await h.rt.simulator.remove(sim.id);
  });
});
