// Memory per idle connection (issue 17 item 4): N clients connected and held, Keyport vs plain
// aedes, both in this process (one at a time, the other with no clients). Per client: the growth
// of heapUsed + external and of RSS from the broker with no clients to the broker holding N.
//
// Why the two sides are measured the same way (and so the difference is the broker's):
//  - Same clients: the same N raw MQTT CONNECTs from the same generator in the driver's child
//    process (its sockets, buffers and heap are not in this process), held the same way.
//  - Same quiet point before each reading: side.settle() waits until the broker has forgotten
//    every client AND every accepted socket of this process has closed (Keyport's sessions ended
//    before its sockets finished closing, so a Keyport round left sockets for the next aedes
//    round's baseline: aedes measured 6.0 KB alone but 3.5–4.0 KB right after Keyport). Then
//    quiesce() waits out the periodic flushes (QUIET_MS), lets pending callbacks run and collects
//    garbage (--expose-gc) until the heap stops shrinking, so a reading counts what is retained,
//    not what a timer or the collector has yet to free (with only the settle, aedes still read
//    ~2.4 KB less right after a Keyport round: Keyport's batched disconnect work was freed
//    inside aedes' round).
//  - Same history: a warm-up round per side is not counted (first connects grow V8's heap
//    spaces, JIT code, pools, and Keyport's device records get their first connection status);
//    every side's counted rounds therefore start from a broker that has already held N clients.
//  - Same neighbours: the order of the sides alternates every round (K A, A K, K A …), so
//    neither always runs just after the other; each figure is the median over rounds, and the
//    Keyport − aedes difference is also given as the median of per-round differences.
// RSS is the noisier figure (the allocator keeps pages it got; V8 sizes its spaces by the heap),
// heap+external the steadier one. Keyport's figure includes the connection status each device's
// record keeps (the store replaces the disconnected status with the connected one). Its decision
// feed keeps the last 10,000 events: full before this runs (bench/connect.ts's rounds and the
// warm-up), so it does not grow inside a measure.
import type { ClientDriver } from './lib/client-driver.ts';
import type { Side } from './lib/brokers.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import { median } from './lib/stats.ts';

export interface IdleMemory {
  side: string;
  heapPerClientKB: number;
  rssPerClientKB: number;
  /** This side minus the baseline (the last plan's side), median of per-round differences. */
  heapOverBaseKB: number;
  rssOverBaseKB: number;
  rounds: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
/**
 * Longer than the longest periodic flush of either side (Keyport: the connection-status batch,
 * 1 s; the decision log, 250 ms): what a round leaves to a timer is gone before the next reading.
 */
const QUIET_MS = 2000;

/** Heap+external and RSS once nothing is pending and garbage is collected (bounded). */
async function quiesce(): Promise<{ heap: number; rss: number }> {
  await new Promise((r) => setTimeout(r, QUIET_MS));
  for (let i = 0; i < 3; i++) await turn();
  let heap = Infinity;
  for (let i = 0; i < 8; i++) {
    gc?.();
    await turn();
    const m = process.memoryUsage();
    const h = m.heapUsed + m.external;
    if (heap - h < 16 * 1024) break;
    heap = h;
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}

export async function measureIdleMemory(
  driver: ClientDriver,
  plans: { side: Side; clients: ConnectFields[]; afterConnect?: () => Promise<void> }[],
  rounds: number,
  log: (line: string) => void,
): Promise<IdleMemory[]> {
  const counted = Math.max(3, rounds);
  const samples = new Map<string, { heap: number; rss: number }[]>();
  for (let r = 0; r <= counted; r++) {
    const order = r % 2 === 0 ? plans : [...plans].reverse();
    for (const { side, clients, afterConnect } of order) {
      await side.settle();
      const m0 = await quiesce();
      const res = await driver.connect(side.port, clients, { concurrency: 100, hold: true, capMs: 120_000 });
      await afterConnect?.();
      const m1 = await quiesce();
      await driver.release();
      if (res.connected !== clients.length)
        throw new Error(`memory: ${side.name} accepted ${res.connected}/${clients.length}`);
      const s = { heap: (m1.heap - m0.heap) / clients.length, rss: (m1.rss - m0.rss) / clients.length };
      log(
        `memory: ${r === 0 ? 'warm-up' : `round ${r}/${counted}`} ${side.name}: ${(s.heap / 1024).toFixed(2)} KB heap+external, ${(s.rss / 1024).toFixed(2)} KB RSS per idle client`,
      );
      if (r > 0) samples.set(side.name, [...(samples.get(side.name) ?? []), s]);
    }
  }
  for (const { side } of plans) await side.settle();
  const base = samples.get(plans[plans.length - 1]?.side.name ?? '') ?? [];
  const over = (ss: { heap: number; rss: number }[], f: 'heap' | 'rss'): number =>
    median(ss.map((s, i) => s[f] - (base[i] as { heap: number; rss: number })[f])) / 1024;
  return plans.map(({ side }) => {
    const ss = samples.get(side.name) ?? [];
    return {
      side: side.name,
      heapPerClientKB: median(ss.map((s) => s.heap)) / 1024,
      rssPerClientKB: median(ss.map((s) => s.rss)) / 1024,
      heapOverBaseKB: over(ss, 'heap'),
      rssOverBaseKB: over(ss, 'rss'),
      rounds: counted,
    };
  });
}
