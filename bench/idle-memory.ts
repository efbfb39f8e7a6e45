// Memory per idle connection (issue 17 item 4): N clients connected and held, Keyport vs plain
// aedes, both in this process (one at a time, the other with no clients). Per client: the growth
// of heapUsed + external after gc() from the broker with no clients to the broker holding N, and
// the same for RSS (noisier: the allocator keeps pages it got). Sides alternate per round; the
// figures are the median of the rounds. Keyport's connection status of each device is counted
// too (its store keeps the new status record per device).
import type { ClientDriver } from './lib/client-driver.ts';
import type { Side } from './lib/brokers.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import { median } from './lib/stats.ts';

export interface IdleMemory {
  side: string;
  heapPerClientKB: number;
  rssPerClientKB: number;
}

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) for (let i = 0; i < 3; i++) g();
};

function usage(): { heap: number; rss: number } {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}

export async function measureIdleMemory(
  driver: ClientDriver,
  plans: { side: Side; clients: ConnectFields[]; afterConnect?: () => Promise<void> }[],
  rounds: number,
  log: (line: string) => void,
): Promise<IdleMemory[]> {
  const samples = new Map<string, { heap: number; rss: number }[]>();
  for (let r = 0; r < rounds; r++) {
    for (const { side, clients, afterConnect } of plans) {
      await side.settle();
      const m0 = usage();
      const res = await driver.connect(side.port, clients, { concurrency: 100, hold: true, capMs: 120_000 });
      await afterConnect?.();
      const m1 = usage();
      await driver.release();
      if (res.connected !== clients.length)
        throw new Error(`memory: ${side.name} accepted ${res.connected}/${clients.length}`);
      const s = { heap: (m1.heap - m0.heap) / clients.length, rss: (m1.rss - m0.rss) / clients.length };
      log(
        `memory: round ${r + 1}/${rounds} ${side.name}: ${(s.heap / 1024).toFixed(2)} KB heap+external, ${(s.rss / 1024).toFixed(2)} KB RSS per idle client`,
      );
      samples.set(side.name, [...(samples.get(side.name) ?? []), s]);
    }
  }
  return plans.map(({ side }) => {
    const ss = samples.get(side.name) ?? [];
    return {
      side: side.name,
      heapPerClientKB: median(ss.map((s) => s.heap)) / 1024,
      rssPerClientKB: median(ss.map((s) => s.rss)) / 1024,
    };
  });
}
