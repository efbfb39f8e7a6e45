// Child process of the store bench: opens a data directory's store once and prints what it cost
// (load time, CPU time, RSS and heap after a GC), as one JSON line. A process of its own, so the figures are
// the store's and not the benchmark's heap.
import { openLowdbStore } from '../../src-main/store/lowdb-store.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: store-load-child.ts DATA_DIR');
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
const c0 = process.cpuUsage();
const store = await openLowdbStore(dir);
const loadMs = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const cpuMs = (cpu.user + cpu.system) / 1000;
gc?.();
const mem = process.memoryUsage();
const counts = { devices: store.listDevices().length, keys: store.listKeys().length };
await store.close();
process.stdout.write(
  JSON.stringify({
    loadMs,
    cpuMs,
    rssMB: mem.rss / 2 ** 20,
    rssDeltaMB: (mem.rss - rss0) / 2 ** 20,
    heapMB: mem.heapUsed / 2 ** 20,
    ...counts,
  }) + '\n',
);
