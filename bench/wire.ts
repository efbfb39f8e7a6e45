// 5. The wire guard: what checking every packet's fixed header and topic bytes costs per
// message (against mqtt-packet's own parse of the same bytes, which aedes does anyway), and what
// an oversized claim costs the broker: `10 ff ff ff 7f` (a CONNECT claiming 256 MB) and then
// 32 MB of junk, on 4 sockets at once, against a real `keyport serve` child process (its RSS read
// from /proc, so the sending side's buffers do not count).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqttPacket from 'mqtt-packet';
import { WireFramer } from '../src-main/broker/wire-guard.ts';
import { DEFAULT_BROKER_LIMITS } from '../src-main/broker/broker-limits.ts';
import { onExit } from './lib/cleanup.ts';
import type { BenchOptions, Section } from './lib/report.ts';
import { fmt, median } from './lib/stats.ts';

const READ = 64 * 1024; // a socket read of the size Node hands aedes under load

function publishes(n: number, topic: string): Buffer {
  const one = mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload: Buffer.from('{"data":{"temp":21.5,"hum":40}}'),
    qos: 1,
    messageId: 1,
    retain: false,
    dup: false,
  } as mqttPacket.Packet);
  return Buffer.concat(Array.from({ length: n }, () => one));
}

/** ns per message for `fn` over `bytes` cut into READ-sized chunks; median of `rounds`. */
function nsPerMessage(bytes: Buffer, n: number, rounds: number, make: () => (chunk: Buffer) => void): number {
  const runs: number[] = [];
  for (let r = -2; r < rounds; r++) {
    const feed = make();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < bytes.length; i += READ) feed(bytes.subarray(i, i + READ));
    if (r >= 0) runs.push(Number(process.hrtime.bigint() - t0) / n); // two warm-up rounds first (JIT)
  }
  return median(runs);
}

function framerCost(quick: boolean): { rows: string[][]; data: Record<string, number> } {
  const n = quick ? 50_000 : 300_000;
  const rounds = quick ? 5 : 11;
  const rows: string[][] = [];
  const data: Record<string, number> = {};
  for (const [name, topic] of [
    ['ASCII topic (39 B)', 'losant/5f0c4e2a9b1d3c7e8f6a2b10/state'],
    ['non-ASCII topic', 'sensors/température/zone-é/€/😀/state'],
  ] as const) {
    const bytes = publishes(n, topic);
    const caps = DEFAULT_BROKER_LIMITS;
    const framer = nsPerMessage(bytes, n, rounds, () => {
      const f = new WireFramer(caps, () => true);
      return (c) => void f.feed(c);
    });
    const parser = nsPerMessage(bytes, n, rounds, () => {
      const p = mqttPacket.parser({ protocolVersion: 4 });
      p.on('packet', () => {});
      return (c) => void p.parse(c);
    });
    rows.push([name, fmt(framer), fmt(parser), `${fmt((100 * framer) / parser)} %`]);
    const key = name.startsWith('ASCII') ? 'ascii' : 'nonAscii';
    data[`${key}FramerNs`] = Math.round(framer);
    data[`${key}ParserNs`] = Math.round(parser);
  }
  return { rows, data };
}

function rssKiB(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

async function startServe(): Promise<{ pid: number; mqtt: number; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'keyport-bench-wire-'));
  const bin = fileURLToPath(new URL('../bin/keyport.mjs', import.meta.url));
  const args = [bin, 'serve', '--json', '--data', dir, '--limits', 'off'];
  for (const f of ['--mqtt-port', '--ws-port', '--tls-port', '--http-port']) args.push(f, '0');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const off = onExit(stop);
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`keyport serve exited with ${code}`)));
  });
  const info = JSON.parse(line) as { mqtt: number };
  return {
    pid: child.pid as number,
    mqtt: info.mqtt,
    stop: () => {
      off();
      stop();
    },
  };
}

/** Sends the 256 MB CONNECT claim then up to 32 MB of junk; resolves when the broker hangs up. */
function oversizedClaim(port: number): Promise<{ ms: number; sentBytes: number }> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const junk = Buffer.alloc(1024 * 1024, 0x41);
    let t0 = 0;
    sock.on('error', () => {});
    sock.once('connect', () => {
      t0 = performance.now();
      sock.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      let sent = 0;
      const pump = (): void => {
        while (sent < 32 && !sock.destroyed) {
          sent++;
          if (!sock.write(junk)) return void sock.once('drain', pump);
        }
      };
      pump();
    });
    sock.once('close', () => resolve({ ms: performance.now() - t0, sentBytes: sock.bytesWritten }));
  });
}

export async function benchWire(o: BenchOptions): Promise<Section> {
  o.log('framer cost per PUBLISH (in-process, no sockets)');
  const cost = framerCost(o.quick);
  o.log('oversized CONNECT claims against keyport serve');
  const serve = await startServe();
  let claims: Array<{ ms: number; sentBytes: number }>;
  let before: { rss: number; hwm: number };
  let after: { rss: number; hwm: number };
  try {
    // Warm up: one claim first, so lazily loaded code is not counted as the attack's cost.
    await oversizedClaim(serve.mqtt);
    before = rssKiB(serve.pid);
    claims = await Promise.all([1, 2, 3, 4].map(() => oversizedClaim(serve.mqtt)));
    after = rssKiB(serve.pid);
  } finally {
    serve.stop();
  }
  const rssDeltaKiB = after.rss - before.rss;
  const hwmDeltaKiB = after.hwm - before.hwm;
  const closeMs = Math.max(...claims.map((c) => c.ms));
  return {
    id: 'wire',
    title: 'Wire guard: per-message cost and oversized claims',
    tables: [
      {
        title: `Wire guard cost per PUBLISH (${READ / 1024} KiB reads)`,
        header: ['topic', 'framer ns/msg', 'mqtt-packet parse ns/msg', 'framer / parse'],
        rows: cost.rows,
      },
      {
        title: '4 sockets × (10 ff ff ff 7f + 32 MB junk) against keyport serve',
        header: ['RSS before', 'RSS after', 'RSS Δ', 'peak RSS Δ', 'slowest close', 'bytes the clients got out'],
        rows: [
          [
            `${fmt(before.rss / 1024)} MiB`,
            `${fmt(after.rss / 1024)} MiB`,
            `${rssDeltaKiB} KiB`,
            `${hwmDeltaKiB} KiB`,
            `${fmt(closeMs)} ms`,
            claims.map((c) => fmt(c.sentBytes / 1024) + ' KiB').join(', '),
          ],
        ],
      },
    ],
    data: { ...cost.data, rssDeltaKiB, hwmDeltaKiB, closeMs: Math.round(closeMs) },
    targets: [
      {
        name: '256 MB CONNECT claim ×4: broker RSS growth (KiB)',
        value: rssDeltaKiB,
        limit: '< 1024',
        met: rssDeltaKiB < 1024,
      },
    ],
    notes: [
      'Bytes the clients got out are what the loopback socket buffers took before the broker hung up, not what the broker read.',
    ],
  };
}
