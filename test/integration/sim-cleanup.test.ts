// A clean workspace (docs/design.md §7): simulator-made devices and keys are marked, reserved tags are
// refused on the user's paths, a scenario's Clear deletes everything the scenario made (also what
// an earlier server run left), and removing one simulation deletes what was made for it alone.
// Real runtime (lowdb store, aedes broker, listeners on port 0), real simulated devices.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSimDevice, SIM_TAG } from '../../src-main/core/sim-marks.ts';
import type { KeyAdmitting } from '../../src-main/core/device-keys.ts';
import { startRuntime } from '../../src-main/server/runtime.ts';
import { dispatch, type DispatchContext } from '../../src-main/service/dispatch.ts';
import { runScenario, waitForSim } from '../../src-main/simulator/scenarios.ts';
import { SCENARIOS, type SimBehaviour } from '../../src-main/simulator/types.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
let ctx: DispatchContext;

beforeAll(async () => {
  h = await startHarness({ simulator: { backoff: { baseMs: 20, jitter: 0 }, scenarioStepMs: 0 } });
  ctx = { service: h.rt.service, dataDir: h.dataDir, listeners: () => h.rt.ports, simulator: h.rt.simulator };
});
afterAll(() => h?.stop());

async function call<T>(method: string, req: unknown): Promise<T> {
  const reply = await dispatch(ctx, method, req);
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { contract: reply.error });
  return reply.result as T;
}
async function callError(method: string, req: unknown) {
  const reply = await dispatch(ctx, method, req);
  expect(reply.ok, `${method} should fail`).toBe(false);
  return (reply as { ok: false; error: { code: string; message: string } }).error;
}
const onDemand: SimBehaviour = { attributes: { temp: { kind: 'int', min: 1, max: 2 } }, everySeconds: null };
const ids = <T extends { id: string }>(xs: T[]) => xs.map((x) => x.id).sort();
const userDevices = () => h.rt.service.devices.list().filter((d) => !isSimDevice(d));

describe('reserved tags: no user device carries a simulator mark or a scenario tag', () => {
  it('devices.create, devices.update and a fleet refuse keyport- tag keys, naming the tag', async () => {
    for (const key of [SIM_TAG, 'keyport-demo-type']) {
      const e = await callError('devices.create', { name: 'mine', tags: [{ key, value: 'x' }] });
      expect(e).toMatchObject({ code: 'validation' });
      expect(e.message).toContain(`tags[0].key: tag keys starting with "keyport-" are reserved`);
      expect(e.message).toContain(`"${key}"`);
    }
    const d = await call<{ id: string }>('devices.create', { name: 'mine', tags: [{ key: 'type', value: 'a' }] });
    const e = await callError('devices.update', {
      id: d.id,
      patch: {
        tags: [
          { key: 'type', value: 'a' },
          { key: 'keyport-sim', value: 'scenario:tag-scope' },
        ],
      },
    });
    expect(e.message).toContain('tags[1].key: tag keys starting with "keyport-" are reserved');
    const f = await callError('simulator.createFleet', {
      count: 1,
      behaviour: onDemand,
      tags: [{ key: 'keyport-sim', value: 'x' }],
    });
    expect(f.message).toContain('tags[0].key: tag keys starting with "keyport-" are reserved');
    await call('devices.delete', { id: d.id });
  });

  it('a simulator-made device keeps its mark through a user edit of its other tags', async () => {
    const run = await runScenario(h.rt.simulator, 'gateway');
    await run.done;
    const dev = h.rt.service.devices.get(run.sims[0]!.deviceId);
    const mark = dev.tags.find((t) => t.key === SIM_TAG)!;
    expect(mark).toEqual({ key: SIM_TAG, value: 'scenario:gateway' });
    const after = await call<{ tags: unknown[] }>('devices.update', {
      id: dev.id,
      patch: { tags: [mark, { key: 'room', value: 'lab' }] },
    });
    expect(after.tags).toEqual([mark, { key: 'room', value: 'lab' }]);
    await call('simulator.clearScenario', { name: 'gateway' });
  });
});

describe("a scenario's Clear leaves nothing behind", () => {
  it('every scenario: its devices are marked, its keys are simulator keys, and Clear deletes all of them', async () => {
    const mine = await h.rt.service.devices.create({
      name: 'my thermostat',
      tags: [{ key: 'type', value: 'thermostat' }],
    });
    const myKey = await h.rt.service.keys.create({
      name: 'my key',
      deviceTags: [{ key: 'type', value: 'thermostat' }],
    });
    const devicesBefore = ids(h.rt.service.devices.list());
    const keysBefore = ids(h.rt.service.keys.list());
    // rate-limit needs limits mode and a 30 s ban; its Clear is checked in rate-limit-scenario.test.ts,
    // which moves the limits' clock on.
    for (const name of SCENARIOS.filter((n) => n !== 'rate-limit')) {
      const run = await runScenario(h.rt.simulator, name);
      await run.done;
      const made = h.rt.service.devices.list().filter((d) => !devicesBefore.includes(d.id));
      expect(made.length, name).toBeGreaterThan(0);
      for (const d of made)
        expect(d.tags, `${name}: ${d.name}`).toContainEqual({ key: SIM_TAG, value: `scenario:${name}` });
      const keys = h.rt.service.keys.list().filter((k) => !keysBefore.includes(k.id));
      expect(keys.length, name).toBeGreaterThan(0);
      for (const k of keys) expect(k.createdVia, `${name}: ${k.name}`).toBe('simulator');
      // No scenario key admits the user's own thermostat (scenario tags are reserved).
      const admitting = await call<KeyAdmitting[]>('devices.keys', { id: mine.id });
      expect(
        admitting.map((a) => a.key.id),
        name,
      ).toEqual([myKey.accessKey.id]);
      const r = await call<{ sims: number; devices: number; keys: number; kept: string[] }>('simulator.clearScenario', {
        name,
      });
      expect(r, name).toEqual({ sims: run.sims.length, devices: made.length, keys: keys.length, kept: [] });
      expect(ids(h.rt.service.devices.list()), name).toEqual(devicesBefore);
      expect(ids(h.rt.service.keys.list()), name).toEqual(keysBefore);
      expect(
        h.rt.simulator.all().filter((s) => s.scenario === name),
        name,
      ).toEqual([]);
    }
    await h.rt.service.keys.remove(myKey.accessKey.id);
    await h.rt.service.devices.remove(mine.id);
  });

  it('Clear also removes what a scenario left in the data directory before a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keyport-clean-'));
    const opts = { dataDir, mqttPort: 0, wsPort: 0, tlsPort: 0, httpPort: 0, log: () => {}, limits: 'off' as const };
    try {
      const a = await startRuntime({ ...opts, simulator: { scenarioStepMs: 0, backoff: { baseMs: 20, jitter: 0 } } });
      try {
        await (
          await runScenario(a.simulator, 'tag-scope')
        ).done;
        expect(a.service.devices.list()).toHaveLength(3);
      } finally {
        await a.close();
      }
      const b = await startRuntime(opts);
      try {
        expect(b.service.devices.list()).toHaveLength(3);
        expect(b.service.keys.list()).toHaveLength(1);
        expect(await b.simulator.clearScenario('tag-scope', 'Tag scope')).toEqual({
          sims: 0,
          devices: 3,
          keys: 1,
          kept: [],
        });
        expect(b.service.devices.list()).toEqual([]);
        expect(b.service.keys.list()).toEqual([]);
      } finally {
        await b.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('removing one simulation', () => {
  it("deletes the key generated for it and keeps the user's device", async () => {
    const d = await h.device({ name: 'bench board' });
    const s = await call<{ id: string; keyId: string }>('simulator.add', {
      deviceId: d.id,
      credentials: { mode: 'generate' },
      behaviour: onDemand,
      transport: 'tcp',
    });
    expect(h.rt.service.keys.get(s.keyId).createdVia).toBe('simulator');
    await waitForSim(h.rt.simulator.get(s.id), (x) => x.connected, 10_000, 'the first connect'); // bound names it
    await call('simulator.remove', { id: s.id });
    expect(h.rt.service.keys.list().map((k) => k.id)).not.toContain(s.keyId);
    expect(h.rt.service.devices.get(d.id).name).toBe('bench board');
    expect(userDevices().map((x) => x.id)).toContain(d.id);
  });

  it("keeps a pasted key the user made, and deletes a scenario's device and key", async () => {
    const d = await h.device({ name: 'pasted' });
    const k = await h.key({ deviceIds: [d.id], name: 'user key' });
    const s = await call<{ id: string }>('simulator.add', {
      deviceId: d.id,
      credentials: { mode: 'paste', key: k.accessKey.key, secret: k.secret },
      behaviour: onDemand,
      transport: 'tcp',
      start: false,
    });
    await call('simulator.remove', { id: s.id });
    expect(h.rt.service.keys.get(k.accessKey.id).name).toBe('user key');

    const run = await runScenario(h.rt.simulator, 'inactive-key');
    await run.done;
    const sim = run.sims[0]!;
    await call('simulator.remove', { id: sim.id });
    expect(h.rt.service.store.getDevice(sim.deviceId)).toBeUndefined();
    expect(h.rt.service.store.getKey(sim.keyId!)).toBeUndefined();
  });
});

describe('devices.keys: the keys that admit a device, and why', () => {
  it('names the id, the tag item or "all devices"; keys that do not admit it are left out', async () => {
    const d = await h.device({ name: 'covered', tags: [{ key: 'floor', value: '2' }] });
    const byId = await h.key({ deviceIds: [d.id] });
    const byTag = await h.key({ deviceTags: [{ key: 'type', value: 'x' }, { key: 'floor' }] });
    const all = await h.key({ name: 'all' });
    const other = await h.key({ deviceTags: [{ key: 'floor', value: '3' }] });
    const r = await call<KeyAdmitting[]>('devices.keys', { id: d.id });
    const mine = r.filter((x) => [byId, byTag, all, other].some((k) => k.accessKey.id === x.key.id));
    expect(mine.map((x) => [x.key.id, x.why])).toEqual([
      [byId.accessKey.id, { kind: 'id' }],
      [byTag.accessKey.id, { kind: 'tag', tag: { key: 'floor' } }],
      [all.accessKey.id, { kind: 'all' }],
    ]);
    expect(JSON.stringify(r)).not.toContain(byId.secret);
    expect(await callError('devices.keys', { id: 'nope' })).toMatchObject({ code: 'bad-request' });
  });
});
