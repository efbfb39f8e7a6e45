// The three listeners against a real aedes broker and real clients (mqtt.js, ws, node:http,
// mosquitto_pub). Every port is 0; every wait is on an event.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { createServer, connect as netConnect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListeners } from '../../src-main/broker/listeners.ts';
import { ListenError } from '../../src-main/shared/listen-error.ts';
import type { ConnectionHandler, ListenerOptions, Listeners } from '../../src-main/broker/listeners.ts';
import { loadOrCreateCertificate } from '../../src-main/broker/tls-cert.ts';

const HOST = '127.0.0.1';
const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';

let dataDir: string;
let cert: string;
let opts: ListenerOptions;
let broker: Aedes;
let listeners: Listeners;
const seen: Array<'tcp' | 'ws' | 'tls'> = [];
const serverStreams: Duplex[] = [];
const clients: MqttClient[] = [];

const handle: ConnectionHandler = (stream, req, transport) => {
  seen.push(transport);
  serverStreams.push(stream);
  broker.handle(stream, req);
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'keyport-listeners-'));
  const loaded = await loadOrCreateCertificate(dataDir);
  cert = loaded.cert;
  opts = { host: HOST, mqttPort: 0, wsPort: 0, tlsPort: 0, tls: { cert: loaded.cert, key: loaded.key } };
  broker = await Aedes.createBroker();
  listeners = await startListeners(handle, opts);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await listeners?.close();
  await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
  await rm(dataDir, { recursive: true, force: true });
});

async function connect(url: string, extra: IClientOptions = {}): Promise<MqttClient> {
  // connectTimeout 5 s: a loopback CONNACK takes ms; mqtt.js reports a hang with its own error.
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...extra });
  clients.push(client);
  return client;
}

/** Subscribes on `sub`, publishes from `pub`, resolves with what `sub` received. */
async function roundTrip(sub: MqttClient, pub: MqttClient, topic: string, payload: string): Promise<string> {
  await sub.subscribeAsync(topic, { qos: 1 });
  const received = new Promise<string>((resolve) => {
    sub.on('message', (t, msg) => {
      if (t === topic) resolve(msg.toString());
    });
  });
  await pub.publishAsync(topic, payload, { qos: 1 });
  return received;
}

/** Ports free right now (bound and released), for checking that a failed start released them. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = createServer();
      s.listen(0, HOST);
      await once(s, 'listening');
      return s;
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function canBind(port: number): Promise<boolean> {
  const s = createServer();
  try {
    s.listen(port, HOST);
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((r) => s.close(r));
  }
}

describe('startListeners', () => {
  it('reports the real ports chosen for port 0', () => {
    for (const p of [listeners.ports.mqtt, listeners.ports.ws, listeners.ports.tls]) expect(p).toBeGreaterThan(0);
    expect(new Set(Object.values(listeners.ports)).size).toBe(3);
  });

  it('MQTT over TCP: publish/subscribe round trip', async () => {
    const before = seen.length;
    const a = await connect(`mqtt://${HOST}:${listeners.ports.mqtt}`);
    const b = await connect(`mqtt://${HOST}:${listeners.ports.mqtt}`);
    expect(seen.slice(before)).toEqual(['tcp', 'tcp']);
    expect(await roundTrip(a, b, 'tcp/t', 'over tcp')).toBe('over tcp');
  });

  it('MQTT over WebSocket at /mqtt (query string allowed): round trip', async () => {
    const before = seen.length;
    const a = await connect(`ws://${HOST}:${listeners.ports.ws}/mqtt`);
    const b = await connect(`ws://${HOST}:${listeners.ports.ws}/mqtt?client=b`);
    expect(seen.slice(before)).toEqual(['ws', 'ws']);
    expect(await roundTrip(a, b, 'ws/t', 'over ws')).toBe('over ws');
  });

  it('MQTT over TLS with certificate verification on: round trip', async () => {
    const before = seen.length;
    const tlsOpts: IClientOptions = { ca: cert, rejectUnauthorized: true };
    const a = await connect(`mqtts://${HOST}:${listeners.ports.tls}`, tlsOpts);
    const b = await connect(`mqtts://${HOST}:${listeners.ports.tls}`, { ...tlsOpts, servername: 'localhost' });
    expect(seen.slice(before)).toEqual(['tls', 'tls']);
    expect(await roundTrip(a, b, 'tls/t', 'over tls')).toBe('over tls');
  });

  it('messages cross transports', async () => {
    const sub = await connect(`mqtts://${HOST}:${listeners.ports.tls}`, { ca: cert });
    const pub = await connect(`ws://${HOST}:${listeners.ports.ws}/mqtt`);
    expect(await roundTrip(sub, pub, 'cross/t', 'ws to tls')).toBe('ws to tls');
  });

  it('TLS refuses a client that does not trust the certificate', async () => {
    await expect(
      mqtt.connectAsync(`mqtts://${HOST}:${listeners.ports.tls}`, { reconnectPeriod: 0, rejectUnauthorized: true }),
    ).rejects.toThrow(/self[- ]signed/i);
  });

  it('MQTT over WebSocket on any path: none (/), /mqtt, /ws, /some/deep/path', async () => {
    // mqtt.js sends `/` for a URL without a path, as Losant's client (losant-mqtt-js) builds it.
    const before = seen.length;
    const base = `ws://${HOST}:${listeners.ports.ws}`;
    const a = await connect(base);
    const b = await connect(`${base}/ws`);
    const c = await connect(`${base}/some/deep/path?x=1`);
    expect(seen.slice(before)).toEqual(['ws', 'ws', 'ws']);
    expect(await roundTrip(a, b, 'ws/any', 'no path to /ws')).toBe('no path to /ws');
    expect(await roundTrip(c, a, 'ws/deep', 'to a deep path')).toBe('to a deep path');
  });

  it('answers a plain HTTP GET (no upgrade) with 426 on every path', async () => {
    const fetchStatus = async (path: string): Promise<{ status: number; body: string }> => {
      const req = httpGet({ host: HOST, port: listeners.ports.ws, path });
      const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
      let body = '';
      for await (const chunk of res) body += String(chunk);
      return { status: res.statusCode ?? 0, body };
    };
    for (const path of ['/mqtt', '/', '/other']) {
      const r = await fetchStatus(path);
      expect(r.status, path).toBe(426);
      expect(r.body).toContain('Upgrade Required: connect with MQTT over WebSocket');
    }
  });

  it('accepts the mqtt subprotocol on /mqtt and on other paths', async () => {
    for (const path of ['/mqtt', '/other']) {
      const ok = new WebSocket(`ws://${HOST}:${listeners.ports.ws}${path}`, ['mqttv3.1', 'mqtt']);
      await once(ok, 'open');
      expect(ok.protocol).toBe('mqtt');
      const closed = once(ok, 'close');
      ok.close();
      await closed;
    }
  });

  it('survives clients that reset their connection on every transport', async () => {
    // TCP: reset mid-CONNECT.
    let before = serverStreams.length;
    const raw = netConnect(listeners.ports.mqtt, HOST);
    await once(raw, 'connect');
    raw.write(Buffer.from([0x10, 0x20, 0x00])); // start of a CONNECT, never finished
    await expect.poll(() => serverStreams.length).toBe(before + 1);
    const tcpStream = serverStreams[before]!;
    raw.resetAndDestroy();
    if (!tcpStream.destroyed) await once(tcpStream, 'close');

    // WebSocket: reset the TCP socket under an open WebSocket.
    before = serverStreams.length;
    const ws = new WebSocket(`ws://${HOST}:${listeners.ports.ws}/mqtt`, 'mqtt');
    ws.on('error', () => {});
    await once(ws, 'open');
    await expect.poll(() => serverStreams.length).toBe(before + 1);
    const wsStream = serverStreams[before]!;
    (ws as unknown as { _socket: import('node:net').Socket })._socket.resetAndDestroy();
    if (!wsStream.destroyed) await once(wsStream, 'close');

    // TLS port: a plain-TCP client that sends garbage and resets.
    const junk = netConnect(listeners.ports.tls, HOST);
    junk.on('error', () => {});
    await once(junk, 'connect');
    junk.write('definitely not a TLS ClientHello\r\n');
    await once(junk, 'close');

    // Still serving.
    const a = await connect(`mqtt://${HOST}:${listeners.ports.mqtt}`);
    expect(await roundTrip(a, a, 'after/reset', 'alive')).toBe('alive');
  });

  it("gives each TCP socket one error listener: its handler's, or else the listeners' own", async () => {
    // A second listener only grew an idle connection's error-listener array (issue 17 item 4);
    // a socket whose handler added none must still survive a reset by the peer.
    const got: Duplex[] = [];
    const own = await startListeners((stream) => {
      got.push(stream);
      if (got.length === 1) stream.on('error', () => {});
    }, opts);
    try {
      for (let i = 0; i < 2; i++) {
        const raw = netConnect(own.ports.mqtt, HOST);
        raw.on('error', () => {});
        await once(raw, 'connect');
        await expect.poll(() => got.length).toBe(i + 1);
        const stream = got[i]!;
        expect(stream.listenerCount('error')).toBe(1);
        const closed = new Promise((resolve) => stream.on('close', resolve)); // once() would reject on the reset's error
        raw.resetAndDestroy();
        await closed;
      }
    } finally {
      await own.close();
    }
  });

  it.skipIf(!existsSync(MOSQUITTO_PUB))('a mosquitto_pub message reaches an mqtt.js subscriber', async () => {
    const sub = await connect(`mqtt://${HOST}:${listeners.ports.mqtt}`);
    await sub.subscribeAsync('t', { qos: 1 });
    const received = new Promise<string>((resolve) => sub.on('message', (t, m) => t === 't' && resolve(m.toString())));
    const before = seen.length;
    const run = promisify(execFile);
    // execFile rejects on a non-zero exit status, so resolving means exit 0.
    await run(MOSQUITTO_PUB, ['-h', HOST, '-p', String(listeners.ports.mqtt), '-t', 't', '-m', 'hello', '-q', '1']);
    expect(await received).toBe('hello');
    expect(seen.slice(before)).toEqual(['tcp']);
  });
});

describe('startListeners: failures', () => {
  it.each([
    ['mqttPort', 'MQTT TCP', '--mqtt-port'],
    ['wsPort', 'MQTT over WebSocket', '--ws-port'],
    ['tlsPort', 'MQTT over TLS', '--tls-port'],
  ] as const)('a busy %s gives a ListenError naming %s and %s, and closes the others', async (key, name, flag) => {
    const [p1, p2] = await freePorts(2);
    const busy = { mqttPort: listeners.ports.mqtt, wsPort: listeners.ports.ws, tlsPort: listeners.ports.tls }[key];
    // The two listeners that are not busy get known-free ports, so we can check they were released.
    const [o1, o2] = (['mqttPort', 'wsPort', 'tlsPort'] as const).filter((k) => k !== key);
    const ports = { ...opts, [o1!]: p1!, [o2!]: p2!, [key]: busy };
    const err = await startListeners(handle, ports).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListenError);
    expect((err as ListenError).code).toBe('EADDRINUSE');
    expect((err as Error).message).toBe(
      `${name} listener: port ${busy} on ${HOST} is already in use (choose another with ${flag}, or 0 for any free port)`,
    );
    expect(await canBind(p1!)).toBe(true);
    expect(await canBind(p2!)).toBe(true);
  });

  it('an invalid port gives a ListenError naming the flag', async () => {
    await expect(startListeners(handle, { ...opts, tlsPort: 70000 })).rejects.toThrow(
      'MQTT over TLS listener: 70000 is not a valid port (0-65535; set it with --tls-port)',
    );
  });
});

describe('Listeners.close', () => {
  it('resolves promptly with clients connected on every transport, which see the close', async () => {
    const own = await startListeners(handle, opts);
    const conns = await Promise.all([
      connect(`mqtt://${HOST}:${own.ports.mqtt}`),
      connect(`ws://${HOST}:${own.ports.ws}/mqtt`),
      connect(`mqtts://${HOST}:${own.ports.tls}`, { ca: cert }),
    ]);
    const closes = conns.map((c) => new Promise<void>((resolve) => c.once('close', () => resolve())));
    // "Promptly" = without waiting for the clients to leave on their own (keepalive is 60 s): a
    // close() that waited would hang past the test's timeout. No wall-clock bound (busy machines).
    await own.close();
    await Promise.all(closes);
    await own.close(); // idempotent
    await expect(canBind(own.ports.mqtt)).resolves.toBe(true);
  });
});
