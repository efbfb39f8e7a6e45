// docs/design.md §8: the last decisions survive a restart (the decision log on disk), and no
// secret reaches it. Real backend on port 0, mosquitto-free (mqtt.js), awaited events only.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DECISION_LOG_FILE } from '../../src-main/service/decision-log.ts';
import { startRuntime } from '../../src-main/server/runtime.ts';
import { makeTempDir, removeTempDir } from '../helpers/fixtures.ts';
import { ClientPool, ConnectRefused } from '../helpers/mqtt-clients.ts';

const pool = new ClientPool();
const dirs: string[] = [];
afterAll(async () => {
  await pool.endAll();
  await Promise.all(dirs.map(removeTempDir));
});

const ports = { mqttPort: 0, wsPort: 0, tlsPort: 0, httpPort: 0, log: () => {}, limits: 'off' as const };

describe('decision log', () => {
  it('a refused CONNECT of the last run is in the feed after a restart, and new events continue its seq', async () => {
    const dataDir = await makeTempDir();
    dirs.push(dataDir);
    const rt = await startRuntime({ dataDir, ...ports });
    const d = await rt.service.devices.create({ name: 'thermo' });
    const k = await rt.service.keys.create({ deviceIds: [d.id] });
    await expect(
      pool.connect(`mqtt://127.0.0.1:${rt.ports.mqtt}`, {
        clientId: d.id,
        username: k.accessKey.key,
        password: 'wrong-' + k.secret,
        reconnectPeriod: 0,
      }),
    ).rejects.toBeInstanceOf(ConnectRefused);
    const refused = rt.service.feed.list().find((e) => e.reason === 'secret.mismatch');
    expect(refused).toBeDefined();
    await rt.close();

    const text = await readFile(join(dataDir, DECISION_LOG_FILE), 'utf8');
    expect(text).toContain('"secret.mismatch"');
    expect(text).not.toContain(k.secret);

    const rt2 = await startRuntime({ dataDir, ...ports });
    try {
      expect(rt2.service.feed.list()).toContainEqual(refused);
      await rt2.service.devices.create({ name: 'after restart' }); // not a decision; keeps the feed as it was
      const c = await pool.connect(`mqtt://127.0.0.1:${rt2.ports.mqtt}`, {
        clientId: d.id,
        username: k.accessKey.key,
        password: k.secret,
      });
      const accepted = rt2.service.feed.list().find((e) => e.reason === 'connect.accepted');
      expect(accepted!.seq).toBeGreaterThan(refused!.seq);
      c.end();
    } finally {
      await rt2.close();
    }
  });
});
