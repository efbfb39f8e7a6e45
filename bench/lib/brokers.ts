// The sides a comparison runs: Keyport (the whole runtime: lock, store, service, broker with
// every check, decision feed on), plain aedes 1.2.0 with a fixed-password authenticate over
// net.createServer, and mosquitto (mosquitto.ts). All on 127.0.0.1.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { startRuntime, type Runtime } from '../../src-main/server/runtime.ts';
import type { KeyportService } from '../../src-main/service/service.ts';
import type { Store } from '../../src-main/store/store.ts';
import { onExit } from './cleanup.ts';
import { startMosquitto, type Mosquitto } from './mosquitto.ts';

export interface Side {
  name: string;
  port: number;
  /** CPU of the broker so far, ms (in-process brokers: this whole process). */
  cpuMs(): number;
  /** Resolves when the broker has no clients left and nothing pending (bounded). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export const processCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function until(pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/**
 * TCP sockets open in this process (the in-process brokers' accepted connections; the clients
 * are in the driver's child process). A broker can have forgotten a client (aedes'
 * connectedClients, Keyport's sessions) while its socket is still closing: settle waits for both,
 * so a side's leftovers are never counted in the next measure of another side.
 */
export const openTcpSockets = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

export interface KeyportSide extends Side {
  rt: Runtime;
  service: KeyportService;
  dataDir: string;
}

/** The Keyport runtime on a fresh temp data dir (or the given one), every listener on port 0 but TCP as asked. */
export async function startKeyport(
  opts: { dataDir?: string; store?: Store; mqttPort?: number } = {},
): Promise<KeyportSide> {
  const own = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'keyport-bench-')));
  const unregister = own ? onExit(() => rmSync(dataDir, { recursive: true, force: true })) : () => {};
  const rt = await startRuntime({
    dataDir,
    mqttPort: opts.mqttPort ?? 0,
    wsPort: 0,
    tlsPort: 0,
    httpPort: 0,
    log: () => {},
    // Benchmarks measure the broker, not Losant's throttling (30 messages / 15 s per topic).
    limits: 'off',
    ...(opts.store ? { store: opts.store } : {}),
  });
  return {
    name: 'Keyport',
    port: rt.ports.mqtt,
    rt,
    service: rt.service,
    dataDir,
    cpuMs: processCpuMs,
    async settle() {
      await until(
        () => rt.broker.sessions.size === 0 && rt.broker.aedes.connectedClients === 0 && openTcpSockets() === 0,
        10_000,
      );
      await rt.service.store.flush();
    },
    async stop() {
      await rt.close();
      if (own) {
        await rm(dataDir, { recursive: true, force: true });
        unregister();
      }
    },
  };
}

export const PLAIN_USER = 'bench';
export const PLAIN_PASSWORD = 'bench-password-0123456789abcdef';
/** A client of the plain-aedes side: its own client id, the one fixed user and password. */
export const asPlain = (clientId: string): { clientId: string; username: string; password: string } => ({
  clientId,
  username: PLAIN_USER,
  password: PLAIN_PASSWORD,
});

/** aedes 1.2.0 as it comes, with `authenticate` checking one fixed username/password. */
export async function startPlainAedes(): Promise<Side & { aedes: Aedes }> {
  const expected = Buffer.from(PLAIN_PASSWORD);
  const aedes = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      const ok = username === PLAIN_USER && password !== undefined && expected.equals(password);
      if (ok) return done(null, true);
      done(Object.assign(new Error('bad user name or password'), { returnCode: 4 as const }), false);
    },
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
  return {
    name: 'plain aedes',
    port,
    aedes,
    cpuMs: processCpuMs,
    settle: () => until(() => aedes.connectedClients === 0 && sockets.size === 0 && openTcpSockets() === 0, 10_000),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

export interface MosquittoSide extends Side {
  mosquitto: Mosquitto;
  users: { username: string; password: string }[];
}

/** mosquitto with `userCount` password-file users (clients share them round-robin). */
export async function startMosquittoSide(userCount: number): Promise<MosquittoSide> {
  const users = Array.from({ length: userCount }, (_, i) => ({
    username: `bench${i}`,
    password: `pw-${i}-0123456789abcdef0123456789abcdef`,
  }));
  const m = await startMosquitto(users);
  return {
    name: 'mosquitto',
    port: m.port,
    mosquitto: m,
    users,
    cpuMs: () => m.cpuMs(),
    // No client count to poll without $SYS; the worker waits for every socket to close, and
    // mosquitto frees a client as soon as its socket closes. A short pause covers the rest.
    settle: () => new Promise((r) => setTimeout(r, 200)),
    stop: () => m.stop(),
  };
}
