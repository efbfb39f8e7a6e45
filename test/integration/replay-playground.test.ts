// "Replay in playground" (docs/design.md §12a): a real WebSocket client behind a (loopback) proxy
// is refused a publish; its decision rows carry every input the playground needs (the peer as well
// as the forwarded address, never a secret), the playground's form rebuilt from the row asks
// access.explain the same question and gets the same answer, and after the key is edited the
// replay reports what changed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Explanation } from '../../src-main/contract.ts';
import { DEFAULT_TRUSTED_PROXIES } from '../../src-main/core/client-address.ts';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import {
  canReplay,
  explainQuery,
  replayForm,
  replayVerdict,
} from '../../src-renderer/components/playground/playground-form.ts';
import { ClientPool, closed, decisionsFrom } from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const pool = new ClientPool();
let door: Device;
let key: { accessKey: AccessKey; secret: string };
const proxies = [...DEFAULT_TRUSTED_PROXIES];

beforeAll(async () => {
  h = await startHarness();
  door = await h.device({ name: 'door' });
  key = await h.key({ deviceIds: [door.id], filterType: 'whitelist', pubTopics: ['sensors/+'] });
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

async function replay(e: DecisionEvent) {
  const form = replayForm(e, h.rt.service.store.listKeys(), h.rt.service.devices.list(), proxies);
  const reply = await dispatch(
    { service: h.rt.service, dataDir: h.dataDir, listeners: () => null },
    'access.explain',
    explainQuery(form, proxies),
  );
  if (!reply.ok) throw new Error(reply.error.message);
  const x = reply.result as Explanation;
  return { form, x, verdict: replayVerdict(e, x) };
}

describe('replaying a decision row', () => {
  let connectEvent: DecisionEvent;
  let publishEvent: DecisionEvent;

  beforeAll(async () => {
    const next = decisionsFrom(h);
    // The test process is the proxy: a loopback peer (trusted by default) forwarding for 203.0.113.7.
    const client = await pool.connect(h.wsUrl, {
      clientId: door.id,
      username: key.accessKey.key,
      password: key.secret,
      wsOptions: { headers: { 'x-forwarded-for': '203.0.113.7' } },
    });
    connectEvent = await next((e) => e.action === 'connect' && e.deviceId === door.id);
    client.publish('alarms/front', 'x', { qos: 0 });
    publishEvent = await next((e) => e.action === 'publish' && e.topic === 'alarms/front');
    await closed(client); // a refused PUBLISH disconnects
  });

  it('records the peer next to the forwarded address, and no secret', () => {
    for (const e of [connectEvent, publishEvent]) {
      expect(e).toMatchObject({ transport: 'ws', sourceAddress: '203.0.113.7', forwardedFor: '203.0.113.7' });
      expect(e.peerAddress).toBe('127.0.0.1');
      expect(JSON.stringify(e)).not.toContain(key.secret);
    }
    expect(publishEvent.reason).toBe('topic.not-whitelisted');
    expect(canReplay(publishEvent) && canReplay(connectEvent)).toBe(true);
  });

  it('fills the form with the attempt and gets the same decisions back', async () => {
    const { form, x, verdict } = await replay(publishEvent);
    expect(form).toMatchObject({
      keyMode: 'pick',
      keyId: key.accessKey.id,
      deviceMode: 'pick',
      deviceId: door.id,
      transport: 'ws',
      address: '127.0.0.1',
      forwardedFor: '203.0.113.7',
      publish: 'alarms/front',
    });
    expect(x.connect.address).toBe(connectEvent.sourceAddress);
    expect(x.connect.decision.reason).toBe(connectEvent.reason);
    expect(verdict).toMatchObject({ changed: false, now: { allowed: false, reason: 'topic.not-whitelisted' } });
    const c = await replay(connectEvent);
    expect(c.verdict).toMatchObject({ changed: false, now: { allowed: true, reason: 'connect.accepted' } });
  });

  it('says what changed once the key is edited', async () => {
    await h.rt.service.keys.update(key.accessKey.id, { pubTopics: ['sensors/+', 'alarms/#'] });
    const allowed = await replay(publishEvent);
    expect(allowed.verdict).toMatchObject({
      changed: true,
      then: { allowed: false, reason: 'topic.not-whitelisted' },
      now: { allowed: true, reason: 'publish.allowed' },
      note: 'refused then, allowed now',
    });
    await h.rt.service.keys.update(key.accessKey.id, { status: 'inactive' });
    const off = await replay(publishEvent);
    expect(off.verdict.now.reason).toBe('key.inactive');
    expect(off.verdict.note).toMatch(/CONNECT is refused now/);
  });

  it('an attempt without X-Forwarded-For records no peer (the source is the peer)', async () => {
    await h.rt.service.keys.update(key.accessKey.id, { status: 'active' });
    const next = decisionsFrom(h);
    await pool.connect(h.mqttUrl, { clientId: door.id, username: key.accessKey.key, password: key.secret });
    const e = await next((e) => e.action === 'connect' && e.deviceId === door.id);
    expect(e.peerAddress).toBeUndefined();
    expect((await replay(e)).form.address).toBe(e.sourceAddress);
  });
});
