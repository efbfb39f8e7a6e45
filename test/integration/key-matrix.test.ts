// The matrix of a tag-scoped key matches what real mqtt.js clients get from the real broker, cell
// by cell (connect, publish state, subscribe command, each custom rule); and its CSV export.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KeyMatrix } from '../../src-main/contract.ts';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { ClientPool, subscribe } from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const pool = new ClientPool();
beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

const lastSeq = (): number => h.rt.service.feed.list().at(-1)?.seq ?? 0;
const cell = (e: DecisionEvent) => ({ allowed: e.result === 'allowed', reason: e.reason });

describe('keys.matrix', () => {
  it('for a tag-scoped key, every cell equals the decision a real client gets', async () => {
    const tag = { key: 'fleet', value: `m-${randomBytes(4).toString('hex')}` };
    await h.device({ name: 'in-1', tags: [tag] });
    await h.device({ name: 'in-2', tags: [tag] });
    await h.device({ name: 'out', tags: [{ key: 'fleet', value: 'other' }] });
    const k = await h.key({
      deviceTags: [tag],
      filterType: 'whitelist',
      pubTopics: ['sensors/+'],
      subTopics: ['cmd/#'],
    });
    const reply = await dispatch({ service: h.rt.service, dataDir: h.dataDir, listeners: () => null }, 'keys.matrix', {
      id: k.accessKey.id,
    });
    if (!reply.ok) throw new Error(reply.error.message);
    const m = reply.result as KeyMatrix & { csv: string };
    expect(m.columns).toEqual([
      'connect',
      'publish state',
      'subscribe command',
      'publish "sensors/+"',
      'subscribe "cmd/#"',
    ]);
    expect(
      m.rows
        .filter((r) => r.cells[0]?.allowed)
        .map((r) => r.deviceName)
        .sort(),
    ).toEqual(['in-1', 'in-2']);

    for (const row of m.rows) {
      const before = lastSeq();
      const client = await pool
        .connect(h.mqttUrl, { clientId: row.deviceId, username: k.accessKey.key, password: k.secret })
        .catch(() => null);
      const connect = await h.decision((e) => e.seq > before && e.action === 'connect' && e.deviceId === row.deviceId);
      expect(row.cells[0], `${row.deviceName} connect`).toEqual(cell(connect));
      if (!client) {
        expect(row.cells.every((c) => !c.allowed)).toBe(true);
        continue;
      }
      // Subscriptions first: they never close the connection.
      const subs: Array<[number, string]> = [
        [2, `losant/${row.deviceId}/command`],
        [4, 'cmd/#'],
      ];
      for (const [i, filter] of subs) {
        const s = lastSeq();
        await subscribe(client, [filter]);
        const e = await h.decision((x) => x.seq > s && x.action === 'subscribe' && x.topic === filter);
        expect(row.cells[i], `${row.deviceName} subscribe ${filter}`).toEqual(cell(e));
      }
      const pubs: Array<[number, string, string]> = [
        [1, `losant/${row.deviceId}/state`, '{"data":{"t":1}}'],
        [3, 'sensors/x', 'x'],
      ];
      for (const [i, topic, payload] of pubs) {
        const s = lastSeq();
        client.publish(topic, payload, { qos: 0 });
        const e = await h.decision((x) => x.seq > s && x.action === 'publish' && x.topic === topic);
        expect(row.cells[i], `${row.deviceName} publish ${topic}`).toEqual(cell(e));
      }
    }
    expect(m.csv.split('\r\n')[0]).toBe(
      '"deviceId","deviceName","connect","publish state","subscribe command","publish ""sensors/+""","subscribe ""cmd/#"""',
    );
    expect(m.csv).toContain('"denied (device.out-of-scope)"');
  });
});
