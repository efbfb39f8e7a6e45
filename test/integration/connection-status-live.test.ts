// Live connection status end to end (docs/design.md §4, issue 17 item 1): a real mqtt.js CONNECT
// makes the device `connected` at once (the record the API and UI read), records its decision,
// and goes to the store's journal (keyport.journal) — not into a rewrite of keyport.json; a clean shutdown
// leaves every device `disconnected` (broker.shutdown) on disk, read back by the next start.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { startRuntime, type Runtime } from '../../src-main/server/runtime.ts';
import { readStoreDir } from '../../src-main/store/lowdb-store.ts';

const started: Runtime[] = [];
const clients: MqttClient[] = [];
let dataDir = '';

afterAll(async () => {
  for (const c of clients) c.end(true);
  for (const rt of started) await rt.close().catch(() => undefined);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<Runtime> {
  const rt = await startRuntime({
    dataDir,
    mqttPort: 0,
    wsPort: 0,
    tlsPort: 0,
    httpPort: 0,
    log: () => {},
    limits: 'off',
  });
  started.push(rt);
  return rt;
}

function connect(rt: Runtime, clientId: string, username: string, password: string): Promise<MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${rt.ports.mqtt}`, { clientId, username, password, reconnectPeriod: 0 });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

describe('connection status journal, end to end', () => {
  it('connected at once, decision recorded, written to the status file (not keyport.json); a clean close reads back as disconnected', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keyport-status-'));
    const rt = await start();
    const svc = rt.service;
    const device = await svc.devices.create({ name: 'status probe' });
    const { accessKey, secret } = await svc.keys.create({ deviceIds: [device.id] });
    // A first use sets the key's lastUsed (a document write of its own, once a minute per key).
    const first = await connect(rt, device.id, accessKey.key, secret);
    const down = new Promise<void>((resolve) => {
      const off = svc.events.on('device.status', (d) => {
        if (d.id !== device.id || d.connectionStatus?.status !== 'disconnected') return;
        off();
        resolve();
      });
    });
    first.end();
    await down;
    await svc.store.flush();
    const docBefore = await readFile(join(dataDir, 'keyport.json'), 'utf8');

    // A refused CONNECT: its decision names why, and the status does not change.
    await expect(connect(rt, device.id, accessKey.key, 'wrong-secret')).rejects.toThrow();
    expect(svc.feed.list().some((e) => e.reason === 'secret.mismatch' && e.deviceId === device.id)).toBe(true);
    expect(svc.store.getDevice(device.id)?.connectionStatus?.status).toBe('disconnected');

    const down1 = svc.store.getDevice(device.id)?.connectionStatus;
    await connect(rt, device.id, accessKey.key, secret);
    // Visible at once: the CONNACK came after the status was set.
    const live = svc.store.getDevice(device.id)?.connectionStatus;
    expect(live).toMatchObject({ status: 'connected', ipAddress: '127.0.0.1', transport: 'tcp' });
    // A reconnect keeps when it last went down; the keys in the order every status is written.
    expect(live?.disconnectedAt).toBe(down1?.disconnectedAt);
    expect(Object.keys(live ?? {})).toEqual([
      'status',
      'connectedAt',
      'disconnectedAt',
      'ipAddress',
      'transport',
      'messagesFromClient',
      'messagesToClient',
    ]);
    const accepted = svc.feed.list().find((e) => e.reason === 'connect.accepted' && e.deviceId === device.id);
    expect(accepted).toMatchObject({
      action: 'connect',
      result: 'allowed',
      keyId: accessKey.id,
      sourceAddress: '127.0.0.1',
    });

    await svc.store.flush(); // what the batch window would write within LAZY_WRITE_MS
    const onDisk = await readStoreDir(dataDir);
    expect(onDisk?.devices.find((d) => d.id === device.id)?.connectionStatus).toEqual(live);
    expect(await readFile(join(dataDir, 'keyport.json'), 'utf8')).toBe(docBefore); // no whole-store rewrite

    await rt.close();
    started.splice(started.indexOf(rt), 1);
    const again = await start();
    expect(again.service.store.getDevice(device.id)?.connectionStatus).toMatchObject({
      status: 'disconnected',
      disconnectReason: 'broker.shutdown',
      connectedAt: live?.connectedAt,
    });
  });
});
