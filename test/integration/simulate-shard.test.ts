// Fleets across machines (docs/design.md §7, "Fleets across machines"): two Keyport runtimes on port 0
// sharing one memory store and one pepper (not clustered, but each accepts the same keys, which is
// all failover needs); `keyport simulate --fleet N --shard I/S --broker A,B` in this process
// (main(argv)) makes its slice of the fleet through node B's server (the data directory it owns)
// and spreads the devices over A and B. Closing node A moves its devices to B; two shards together
// run the fleet exactly once; a refused key does not hop; bad flags exit 2 naming the flag.
// Runs end on an event (SIGTERM once the awaited output is printed, see `until` in helpers/cli.ts).
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type Runtime } from '../../src-main/server/runtime.ts';
import { ADMIN_TOKEN_FILE, PEPPER_FILE } from '../../src-main/service/data-dir.ts';
import { SimulatedDevice } from '../../src-main/simulator/simulated-device.ts';
import { defaultBehaviour } from '../../src-main/simulator/generators.ts';
import { createMemoryStore } from '../../src-main/store/memory-store.ts';
import { keyport } from '../helpers/cli.ts';

type Node = { rt: Runtime; dir: string; url: string; closed: boolean };
const nodes: Node[] = [];
const dirs: string[] = [];

type Store = ReturnType<typeof createMemoryStore>;
const stores: Store[] = [];

/** The shared store as one node sees it: closing the node does not close it under the other node
 * (each node of a real cluster has its own connection to Redis); afterAll closes it. */
function nodeView(store: Store): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'close') return async () => {};
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function startNode(dir: string, store: Store): Promise<Node> {
  const rt = await startRuntime({
    dataDir: dir,
    store: nodeView(store),
    mqttPort: 0,
    wsPort: 0,
    tlsPort: 0,
    httpPort: 0,
    log: () => {},
    limits: 'off',
  });
  const node = { rt, dir, url: `mqtt://127.0.0.1:${rt.ports.mqtt}`, closed: false };
  nodes.push(node);
  return node;
}

async function closeNode(n: Node): Promise<void> {
  if (n.closed) return;
  n.closed = true;
  await n.rt.close();
}

/** Two nodes on one store and one pepper: A started first, its pepper copied to B before B starts. */
async function twoNodes(): Promise<[Node, Node]> {
  const store = createMemoryStore();
  stores.push(store);
  const dirA = await mkdtemp(join(tmpdir(), 'keyport-shard-a-'));
  const dirB = await mkdtemp(join(tmpdir(), 'keyport-shard-b-'));
  dirs.push(dirA, dirB);
  const a = await startNode(dirA, store);
  copyFileSync(join(dirA, PEPPER_FILE), join(dirB, PEPPER_FILE));
  const b = await startNode(dirB, store);
  return [a, b];
}

afterAll(async () => {
  await Promise.all(nodes.map(closeNode));
  await Promise.all(stores.map((s) => s.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

type Obj = Record<string, unknown>;
const objects = (stdout: string): Obj[] =>
  stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Obj);
const count = (out: string, needle: string) => out.split(needle).length - 1;
/** 30 s: a backstop that ends a run whose awaited output never came; the test then fails on it. */
const BACKSTOP = ['--duration', '30'];

describe('keyport simulate --shard with --broker A,B', () => {
  let a: Node;
  let b: Node;
  beforeAll(async () => {
    [a, b] = await twoNodes();
  });

  it('two shards together run the fleet exactly once, spread over both brokers by fleet number', async () => {
    const run = (shard: string) =>
      keyport(
        b.dir,
        ['simulate', '--fleet', '5', '--shard', shard, '--broker', `${a.url},${b.url}`, '--every', '5', ...BACKSTOP],
        { until: (out) => count(out, 'connect accepted') >= (shard === '1/2' ? 3 : 2) },
      );
    const [r1, r2] = await Promise.all([run('1/2'), run('2/2')]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r1.stdout).toMatch(/^simulating shard 1\/2 of a fleet of 5: devices 1–3 \(3\) against /);
    expect(r2.stdout).toMatch(/^simulating shard 2\/2 of a fleet of 5: devices 4–5 \(2\) against /);
    // One connect accepted per device, each naming its broker: device n on broker (n-1) mod 2.
    const on = new Map<string, string>();
    for (const line of (r1.stdout + r2.stdout).split('\n')) {
      const m = / (Fleet device \d) connect accepted \(connack\.accepted, client-side\) on (\S+)$/.exec(line);
      if (m) {
        expect(on.has(m[1]!), `${m[1]} connected twice`).toBe(false);
        on.set(m[1]!, m[2]!);
      }
    }
    expect([...on.keys()].sort()).toEqual([1, 2, 3, 4, 5].map((n) => `Fleet device ${n}`));
    expect([1, 2, 3, 4, 5].map((n) => on.get(`Fleet device ${n}`))).toEqual([a.url, b.url, a.url, b.url, a.url]);
    // The brokers saw it so: A admitted devices 1, 3, 5 and B devices 2, 4, each device once in all.
    const admitted = (n: Node) =>
      n.rt.service.feed
        .list()
        .filter((e) => e.action === 'connect' && e.result === 'allowed')
        .map((e) => e.deviceId);
    const onA = admitted(a);
    const onB = admitted(b);
    expect(onA).toHaveLength(3);
    expect(onB).toHaveLength(2);
    expect(new Set([...onA, ...onB]).size).toBe(5);
    // Each shard removed what it made (through B's server), and only that.
    expect(r1.stdout).toMatch(/removed the 3 devices and keys made for this run/);
    expect(r2.stdout).toMatch(/removed the 2 devices and keys made for this run/);
    expect(b.rt.service.devices.list().filter((d) => d.name.startsWith('Fleet device'))).toHaveLength(0);
    expect(r1.stdout).toMatch(/^by broker when stopped \(connected \/ on it\), 0 failover\(s\):$/m);
  });

  it('node A goes away: its devices reconnect to B, the output names the failover and the new broker', async () => {
    let closing: Promise<void> | undefined;
    const r = await keyport(
      b.dir,
      ['simulate', '--fleet', '4', '--shard', '1/2', '--broker', `${a.url},${b.url}`, '--every', '5', '--json'],
      {
        until: (out) => {
          // Both devices up (device 1 on A, device 2 on B): take node A away, once.
          if (!closing && count(out, '"reason":"connack.accepted"') >= 2) closing = closeNode(a);
          return count(out, '"reason":"connack.accepted"') >= 3;
        },
      },
    );
    await closing;
    expect(r.code, r.stderr).toBe(0);
    const objs = objects(r.stdout);
    const failover = objs.find((o) => o.reason === 'broker.failover');
    expect(failover, r.stdout).toMatchObject({
      type: 'outcome',
      sim: 'Fleet device 1',
      kind: 'info',
      broker: b.url,
      detail: `${a.url} closed the connection; moving to ${b.url}`,
    });
    const connects = objs.filter((o) => o.reason === 'connack.accepted');
    // Device 1 started on A and device 2 on B (in either order), then device 1 came back on B.
    expect(
      connects
        .slice(0, 2)
        .map((o) => `${String(o.sim)} ${String(o.broker)}`)
        .sort(),
    ).toEqual([`Fleet device 1 ${a.url}`, `Fleet device 2 ${b.url}`]);
    expect(connects.at(-1)).toMatchObject({ sim: 'Fleet device 1', on: b.url, broker: b.url });
    // Client-side, a close with a broker list is not taken for a refused publish: the state topic
    // is still published after the move.
    expect(objs.filter((o) => o.reason === 'publish.closed')).toEqual([]);
    expect(objs.find((o) => o.reason === 'connection.closed')).toMatchObject({ sim: 'Fleet device 1', on: a.url });
    // Device 2 never moved: its node stayed.
    expect(objs.filter((o) => o.reason === 'broker.failover')).toHaveLength(1);
    const summary = objs.find((o) => o.type === 'summary');
    expect(summary).toMatchObject({
      devices: 2,
      connected: 2,
      failovers: 1,
      byBroker: { [a.url]: { devices: 0, connected: 0 }, [b.url]: { devices: 2, connected: 2 } },
      byReason: { 'broker.failover': 1, 'connack.accepted': 3 },
    });
    // B admitted device 1 after A was gone.
    const first = failover!.deviceId as string;
    expect(
      b.rt.service.feed.list().some((e) => e.deviceId === first && e.action === 'connect' && e.result === 'allowed'),
    ).toBe(true);
  });
});

describe('keyport simulate --api URL: a machine with no Keyport of its own', () => {
  let a: Node;
  let b: Node;
  let token: string;
  let empty: string;
  beforeAll(async () => {
    [a, b] = await twoNodes();
    token = readFileSync(join(b.dir, ADMIN_TOKEN_FILE), 'utf8').trim();
    empty = await mkdtemp(join(tmpdir(), 'keyport-shard-none-'));
    dirs.push(empty);
  });
  const api = () => `http://127.0.0.1:${b.rt.ports.http}`;

  it("with --broker: node B makes the shard's devices and keys; the local data directory is not touched", async () => {
    const r = await keyport(
      empty,
      [
        'simulate',
        '--fleet',
        '4',
        '--shard',
        '2/2',
        '--api',
        api(),
        '--broker',
        `${a.url},${b.url}`,
        '--every',
        '5',
        ...BACKSTOP,
      ],
      { env: { KEYPORT_ADMIN_TOKEN: token }, until: (out) => count(out, 'connect accepted') >= 2 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      `simulating shard 2/2 of a fleet of 4: devices 3–4 (2) against ${a.url},${b.url} (client-side outcomes only; keys issued by the Keyport server at ${api()})`,
    );
    expect(r.stdout).toMatch(/ Fleet device 3 connect accepted \(connack\.accepted, client-side\) on /);
    expect(r.stdout).toMatch(/ Fleet device 4 connect accepted \(connack\.accepted, client-side\) on /);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(readdirSync(empty)).toEqual([]);
    expect(b.rt.service.devices.list().filter((d) => d.name.startsWith('Fleet device'))).toHaveLength(0);
  });

  it("alone: that server's own listeners, outcomes from its decision feed", async () => {
    const r = await keyport(
      empty,
      ['simulate', '--fleet', '2', '--api', api(), '--every', '5', ...BACKSTOP, '--json'],
      {
        env: { KEYPORT_ADMIN_TOKEN: token },
        until: (out) => count(out, '"reason":"connect.accepted"') >= 2,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const objs = objects(r.stdout);
    expect(objs[0]).toMatchObject({
      type: 'info',
      target: `the Keyport server at ${api()}; outcomes from its decision feed`,
    });
    expect(objs.filter((o) => o.reason === 'connect.accepted' && o.source === 'broker')).toHaveLength(2);
    expect(r.stdout).not.toContain(token);
  });
});

describe('a device with a list of brokers', () => {
  let a: Node;
  let b: Node;
  beforeAll(async () => {
    [a, b] = await twoNodes();
  });

  /** Resolves when the device stops by itself (it gave up) or satisfies `done`. */
  const until = (sim: SimulatedDevice, done: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!done()) return;
        off();
        resolve();
      };
      const off = sim.events.on('changed', check);
      check();
    });
  // Retries within milliseconds, so a test does not wait out the 1 s default back-off.
  const fast = { baseMs: 20, maxMs: 50, maxAttempts: 2, jitter: 0 };

  it('whose key is refused stays on its broker (a policy outcome, not a node failure) and gives up', async () => {
    const device = await a.rt.service.devices.create({ name: 'refused-one' });
    const sim = new SimulatedDevice({
      id: 'refused',
      config: {
        deviceId: device.id,
        credentials: { key: 'no-such-key', secret: 'x'.repeat(64) },
        behaviour: defaultBehaviour(5),
        transport: 'tcp',
      },
      url: [a.url, b.url],
      outcomes: 'client',
      backoff: fast,
    });
    sim.start();
    await until(sim, () => !sim.running);
    const snap = sim.snapshot();
    expect(snap.failovers).toBe(0);
    expect(snap.broker).toBe(a.url);
    expect(snap.log.some((e) => e.reason === 'broker.failover')).toBe(false);
    expect(snap.stopReason).toMatch(/^gave up after 2 refused connection attempts/);
    const refusals = (n: Node) =>
      n.rt.service.feed.list().filter((e) => e.deviceId === device.id && e.action === 'connect').length;
    expect(refusals(a)).toBe(2);
    expect(refusals(b)).toBe(0);
    await sim.stop();
  });

  it('that cannot reach its first broker moves to the next one', async () => {
    const device = await b.rt.service.devices.create({ name: 'hopper' });
    const key = await b.rt.service.keys.create({ deviceIds: [device.id] });
    const dead = await freePort();
    const sim = new SimulatedDevice({
      id: 'hopper',
      config: {
        deviceId: device.id,
        credentials: { key: key.accessKey.key, secret: key.secret },
        behaviour: defaultBehaviour(5),
        transport: 'tcp',
      },
      url: [`mqtt://127.0.0.1:${dead}`, b.url],
      outcomes: 'client',
      backoff: fast,
    });
    sim.start();
    await until(sim, () => sim.connected || !sim.running);
    const snap = sim.snapshot();
    expect(snap.status).toBe('connected');
    expect(snap).toMatchObject({ broker: b.url, failovers: 1 });
    expect(snap.log.find((e) => e.reason === 'broker.failover')?.detail).toBe(
      `mqtt://127.0.0.1:${dead} could not be reached; moving to ${b.url}`,
    );
    expect(snap.log.find((e) => e.kind === 'connect' && e.ok)).toMatchObject({ broker: b.url });
    await sim.stop();
  });
});

describe('keyport simulate --shard / --broker: bad flags', () => {
  it.each<[string[], RegExp]>([
    [['--fleet', '10', '--shard', '0/4'], /^keyport: --shard the shard number must be from 1 to 4 \(counted from 1/],
    [['--fleet', '10', '--shard', '5/4'], /^keyport: --shard the shard number must be from 1 to 4/],
    [['--fleet', '10', '--shard', 'half'], /^keyport: --shard must look like I\/S, shard I of S counted from 1/],
    [['--fleet', '3', '--shard', '1/4'], /^keyport: --shard 1\/4: 4 shards of a fleet of 3 would leave a shard/],
    [
      ['--fleet', '10000', '--shard', '1/2'],
      /^keyport: --shard 1\/2 of --fleet 10000 is 5000 devices; one simulate runs at most 2000/,
    ],
    [['--fleet', '3000'], /^keyport: --fleet must be a whole number from 1 to 2000/],
    [['--device', 'x', '--key', 'k', '--shard', '1/2'], /^keyport: --shard is for --fleet/],
    [['--fleet', '2', '--broker', 'http://a:1'], /^keyport: --broker: must start with mqtt:\/\//],
    [['--fleet', '2', '--broker', 'mqtt://a:1,,mqtt://b:1'], /^keyport: --broker: an empty URL in the list/],
    [
      ['--fleet', '2', '--broker', 'mqtt://a:1', '--broker', 'mqtt://a:1'],
      /^keyport: --broker: mqtt:\/\/a:1 is listed twice/,
    ],
    [
      ['--fleet', '2', '--broker', 'mqtt://a:1', '--url', 'mqtt://b:1'],
      /^keyport: --url and --broker cannot be combined/,
    ],
    [['--fleet', '2', '--api', 'ftp://a'], /^keyport: --api must start with http:\/\/ or https:\/\//],
    [
      ['--fleet', '2', '--api', 'http://127.0.0.1:1'],
      /^keyport: --api needs that server's admin token: --admin-token-file FILE/,
    ],
    [['--fleet', '2', '--admin-token-file', 'x'], /^keyport: --admin-token-file is for --api URL$/],
    [
      ['--fleet', '2', '--api', 'http://127.0.0.1:1', '--admin-token-file', '/nonexistent/admin-token'],
      /^keyport: --admin-token-file \/nonexistent\/admin-token: ENOENT$/,
    ],
  ])('%j: exit code 2 with one line on stderr naming the flag', async (args, message) => {
    const dir = await mkdtemp(join(tmpdir(), 'keyport-shard-flags-'));
    dirs.push(dir);
    const r = await keyport(dir, ['simulate', ...args], { env: { KEYPORT_SECRET: 'x'.repeat(64) } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});

/** A loopback port nothing listens on: bound on port 0, then closed. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
