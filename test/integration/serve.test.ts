// `keyport serve --json` (docs/design.md §11, §12) on port 0, run in this process through main(argv, io) with
// an emitter for SIGINT/SIGTERM; the CLI going through it while it owns the data directory, real
// MQTT clients (mqtt.js, mosquitto_pub) on real sockets. The spawned process with real signals is
// in cli-smoke.test.ts.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  keyport,
  keyportJson,
  killAllServes,
  parseEnvFile,
  startServe,
  tempDir,
  type ServeRun,
} from '../helpers/cli.ts';
import { ClientPool, closed, HAVE_MOSQUITTO, mosquitto } from '../helpers/mqtt-clients.ts';

const READY_FIELDS = ['adminTokenFile', 'applicationId', 'dataDir', 'http', 'mqtt', 'tls', 'uiUrl', 'ws'];
const PORT_ARGS = ['--mqtt-port', '0', '--ws-port', '0', '--tls-port', '0', '--http-port', '0'];

interface Created {
  id: string;
}
interface CreatedKey {
  accessKey: { id: string; key: string; status: string };
  secret: string;
}

const pool = new ClientPool();
const dirs: Array<() => Promise<void>> = [];
/** Every secret this file was handed; none may ever appear in a store file. */
const secrets: string[] = [];

async function newDir(): Promise<string> {
  const t = await tempDir('keyport-serve-');
  dirs.push(t.remove);
  return t.dir;
}

afterEach(async () => {
  await pool.endAll();
});

afterAll(async () => {
  await pool.endAll();
  await killAllServes();
  await Promise.all(dirs.map((rm) => rm()));
});

function readStore(dir: string): string {
  return readFileSync(join(dir, 'keyport.json'), 'utf8');
}

function expectNoSecretIn(text: string): void {
  expect(secrets.length).toBeGreaterThan(0);
  for (const s of secrets) expect(text.includes(s), 'a secret is in the store file').toBe(false);
}

// The two suites run side by side (describe.concurrent); the steps of the first depend on each
// other and stay in order (it.sequential); the failure cases are independent of each other.
describe.concurrent('keyport serve --json, one data directory across two runs', () => {
  let dir: string;
  let serve: ServeRun;
  const deviceIds: string[] = [];
  const keyIds: string[] = [];
  let envFile: string;

  beforeAll(async () => {
    dir = await newDir();
    serve = await startServe(dir);
  });

  it.sequential('prints ONE ready line with exactly the docs/design.md §12 fields and real ports', () => {
    const r = serve.ready;
    expect(serve.readyText.trim().startsWith('{')).toBe(true);
    expect(Object.keys(r).sort()).toEqual(READY_FIELDS);
    const ports = [r.mqtt, r.ws, r.tls, r.http];
    for (const p of ports) {
      expect(Number.isInteger(p)).toBe(true);
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(65536);
    }
    expect(new Set(ports).size).toBe(4);
    expect(r.applicationId).toMatch(/^[0-9a-f]{24}$/);
    expect(r.dataDir).toBe(dir);
    expect(r.adminTokenFile).toBe(join(dir, 'admin-token'));
    const token = readFileSync(r.adminTokenFile, 'utf8').trim();
    expect(r.uiUrl).toBe(`http://127.0.0.1:${r.http}/#token=${token}`);
  });

  it.sequential('keeps the admin token file at mode 0600 and the lock file says who owns the directory', () => {
    expect(statSync(serve.ready.adminTokenFile).mode & 0o777).toBe(0o600);
    const lock = JSON.parse(readFileSync(join(dir, 'keyport.lock'), 'utf8')) as {
      pid: number;
      url: string;
      httpPort: number;
    };
    expect(lock.pid).toBe(serve.pid);
    expect(lock.url).toBe(`http://127.0.0.1:${serve.ready.http}`);
    expect(lock.httpPort).toBe(serve.ready.http);
  });

  it.sequential('the ports it printed are live: the HTTP API answers with the admin token', async () => {
    const token = readFileSync(serve.ready.adminTokenFile, 'utf8').trim();
    const res = await fetch(`http://127.0.0.1:${serve.ready.http}/rpc/app.info`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; result: { applicationId: string; listeners: { mqtt: number } } };
    expect(body.result.applicationId).toBe(serve.ready.applicationId);
    expect(body.result.listeners.mqtt).toBe(serve.ready.mqtt);
  });

  it.sequential(
    'CLI commands on the same KEYPORT_DATA go through the server; a saved .env connects at once with mosquitto_pub',
    async () => {
      const device = await keyportJson<Created>(dir, [
        'devices',
        'create',
        '--name',
        'through the server',
        '--tag',
        'site=lab',
      ]);
      deviceIds.push(device.id);
      envFile = join(await newDir(), 'device.env');
      const created = await keyportJson<{ accessKey: CreatedKey['accessKey'] }>(dir, [
        'keys',
        'create',
        '--name',
        'served',
        '--device',
        device.id,
        '--save',
        envFile,
        '--format',
        'env',
      ]);
      keyIds.push(created.accessKey.id);
      // The server still owns the directory: the commands did not take the lock.
      expect((JSON.parse(readFileSync(join(dir, 'keyport.lock'), 'utf8')) as { pid: number }).pid).toBe(serve.pid);
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      const env = parseEnvFile(readFileSync(envFile, 'utf8'));
      secrets.push(env.LOSANT_ACCESS_SECRET!);
      expect(env.LOSANT_ACCESS_SECRET).toMatch(/^[0-9a-f]{64}$/);
      expect(env).toMatchObject({
        LOSANT_DEVICE_ID: device.id,
        LOSANT_ACCESS_KEY: created.accessKey.key,
        MQTT_HOST: '127.0.0.1',
        MQTT_PORT: String(serve.ready.mqtt), // the running server's real ports, not the defaults
        MQTT_WS_PORT: String(serve.ready.ws),
        MQTT_TLS_PORT: String(serve.ready.tls),
      });
      // The server knows about them (its in-memory store, not only the file).
      const listed = await keyportJson<Array<{ id: string }>>(dir, ['keys', 'list']);
      expect(listed.map((k) => k.id)).toContain(created.accessKey.id);
      if (!HAVE_MOSQUITTO) return;
      const pub = await mosquitto('mosquitto_pub', [
        '-h',
        env.MQTT_HOST!,
        '-p',
        env.MQTT_PORT!,
        '-i',
        env.LOSANT_DEVICE_ID!,
        '-u',
        env.LOSANT_ACCESS_KEY!,
        '-P',
        env.LOSANT_ACCESS_SECRET!,
        '-t',
        `losant/${env.LOSANT_DEVICE_ID}/state`,
        '-m',
        '{"data":{"temp":20}}',
        '-q',
        '1',
      ]);
      expect(pub.stderr).toBe('');
      expect(pub.code).toBe(0);
    },
  );

  it.sequential('keys set-status ID inactive through the server drops that device if connected', async () => {
    const device = await keyportJson<Created>(dir, ['devices', 'create', '--name', 'to be dropped']);
    deviceIds.push(device.id);
    const created = await keyportJson<CreatedKey>(dir, ['keys', 'create', '--device', device.id]);
    keyIds.push(created.accessKey.id);
    secrets.push(created.secret);
    const url = `mqtt://127.0.0.1:${serve.ready.mqtt}`;
    const opts = { clientId: device.id, username: created.accessKey.key, password: created.secret };
    const client = await pool.connect(url, opts);
    const dropped = closed(client);
    const r = await keyport(dir, ['keys', 'set-status', created.accessKey.id, 'inactive']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('inactive');
    await dropped;
    // And it cannot come back: CONNACK 5 (not authorized).
    expect((await pool.refusal(url, opts)).code).toBe(5);
  });

  it.sequential('a second serve on the same data directory fails with exit 1 and one line naming the pid', async () => {
    const r = await keyport(dir, ['serve', '--json', ...PORT_ARGS]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(String(serve.pid));
    expect(lines[0]).toContain(dir);
    expect(serve.running()).toBe(true); // the first one is unaffected
  });

  it.sequential(
    'bad input through the server: exit 2 and the same one line as without a server (commands may overlap)',
    async () => {
      const [cidr, unknown] = await Promise.all([
        keyport(dir, ['keys', 'create', '--all-devices', '--allow-address', '10.0.0.0/33']),
        keyport(dir, ['keys', 'set-status', '0123456789abcdef01234567', 'inactive']),
      ]);
      expect([cidr.code, cidr.stderr]).toEqual([
        2,
        'keyport: addresses[0]: "10.0.0.0/33" is not a valid IP address or CIDR block: prefix must be 0-32 for IPv4 (--allow-address/--deny-address)\n',
      ]);
      expect([unknown.code, unknown.stderr]).toEqual([
        2,
        'keyport: no access key with id "0123456789abcdef01234567"\n',
      ]);
    },
  );

  it.sequential('a CLI command with a wrong admin token gets one clear line (exit 1), not a TypeError', async () => {
    const file = serve.ready.adminTokenFile;
    const token = readFileSync(file, 'utf8');
    writeFileSync(file, `${'0'.repeat(48)}\n`);
    try {
      const r = await keyport(dir, ['devices', 'list']);
      expect(r.code).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        `keyport: the Keyport server at http://127.0.0.1:${serve.ready.http} answered HTTP 401: missing or wrong admin token (Authorization: Bearer <token from the data directory>)`,
      );
    } finally {
      writeFileSync(file, token);
    }
  });

  it.sequential(
    'SIGTERM with a device connected: exit 0, lock removed, the store holds everything acknowledged and no secret',
    async () => {
      const [device] = deviceIds;
      const env = parseEnvFile(readFileSync(envFile, 'utf8'));
      const client = await pool.connect(`mqtt://127.0.0.1:${serve.ready.mqtt}`, {
        clientId: device,
        username: env.LOSANT_ACCESS_KEY!,
        password: env.LOSANT_ACCESS_SECRET!,
      });
      const dropped = closed(client);
      const r = await serve.stop('SIGTERM');
      await dropped;
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${serve.readyText}\n`); // --json: the ready line and nothing else
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
      expect(existsSync(join(dir, 'keyport.lock'))).toBe(false);
      const text = readStore(dir);
      const store = JSON.parse(text) as { devices: Array<{ id: string }>; keys: Array<{ id: string; status: string }> };
      expect(store.devices.map((d) => d.id)).toEqual(expect.arrayContaining(deviceIds));
      expect(store.keys.map((k) => k.id)).toEqual(expect.arrayContaining(keyIds));
      expect(store.keys.find((k) => k.id === keyIds[1])?.status).toBe('inactive');
      // A clean shutdown leaves no device marked connected: live status is in
      // connection-status.jsonl (docs/design.md §4), its last line for the device.
      const statusText = readFileSync(join(dir, 'connection-status.jsonl'), 'utf8');
      const status = statusText
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; status: { status: string; disconnectReason?: string } })
        .filter((e) => e.id === device)
        .at(-1)?.status;
      expect(status).toMatchObject({ status: 'disconnected', disconnectReason: 'broker.shutdown' });
      expectNoSecretIn(text);
      expectNoSecretIn(statusText);
    },
  );

  it.sequential('SIGINT on a second run of the same directory: exit 0, lock removed, new data kept', async () => {
    serve = await startServe(dir);
    const device = await keyportJson<Created>(dir, ['devices', 'create', '--name', 'second run']);
    const created = await keyportJson<CreatedKey>(dir, [
      'keys',
      'create',
      '--all-devices',
      '--allow-address',
      '127.0.0.1',
    ]);
    secrets.push(created.secret);
    const r = await serve.stop('SIGINT');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'keyport.lock'))).toBe(false);
    const text = readStore(dir);
    const store = JSON.parse(text) as { devices: Array<{ id: string }>; keys: Array<{ id: string }> };
    expect(store.devices.map((d) => d.id)).toEqual(expect.arrayContaining([...deviceIds, device.id]));
    expect(store.keys.map((k) => k.id)).toEqual(expect.arrayContaining([...keyIds, created.accessKey.id]));
    expectNoSecretIn(text);
    // With the server gone the CLI takes the lock itself and sees the same data.
    const listed = await keyportJson<Array<{ id: string }>>(dir, ['keys', 'list']);
    expect(listed).toHaveLength(3);
  });
});

describe.concurrent('keyport serve: failures', () => {
  let held: Server | undefined;

  afterAll(async () => {
    await new Promise<void>((res) => (held ? held.close(() => res()) : res()));
  });

  it('a busy --mqtt-port exits 1 with one line naming --mqtt-port, and leaves no lock behind', async () => {
    held = createServer();
    await new Promise<void>((res) => held!.listen(0, '127.0.0.1', () => res()));
    const busy = (held.address() as AddressInfo).port;
    const dir = await newDir();
    const r = await keyport(dir, [
      'serve',
      '--json',
      '--mqtt-port',
      String(busy),
      '--ws-port',
      '0',
      '--tls-port',
      '0',
      '--http-port',
      '0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--mqtt-port');
    expect(lines[0]).toContain(String(busy));
    expect(existsSync(join(dir, 'keyport.lock'))).toBe(false);
  });

  it.each([
    [['--bogus'], /--bogus/],
    [['--mqtt-port', 'abc'], /--mqtt-port/],
    [['--mqtt-port', '70000'], /--mqtt-port/],
    [['extra'], /extra/],
  ])('bad usage %j exits 2 with one line', async (args, names) => {
    const dir = await newDir();
    const r = await keyport(dir, ['serve', '--json', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(names);
    expect(existsSync(join(dir, 'keyport.lock'))).toBe(false);
  });
});
