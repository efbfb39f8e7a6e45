// Longest files first, also on a fresh clone. Vitest orders files by the durations of the last run
// (node_modules/.vite/vitest/…/results.json) and, without them, by file size, largest first. A fresh
// clone (CI) has no such cache, and size says little here: the files that take longest are small
// ones that start processes and wait on them (the spawned CLI, `npm start` with a fake Electron
// mirror, kill -9 of a cluster node). In size order those came late, and one of them could run
// alone at the end while the other fork sat idle. test/file-durations.json holds the seconds each
// file took in a measured run (`node scripts/file-durations.mjs` rewrites it from
// test-results/vitest.json); a file not in it counts as short. The cache, when there is one, wins:
// it is this machine's own last run. Failed files still go first, as in vitest's own order.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const TABLE = new URL('../file-durations.json', import.meta.url);

/** Seconds per file (path from the repository root), from test/file-durations.json. */
function measured(): Map<string, number> {
  const raw: unknown = JSON.parse(readFileSync(TABLE, 'utf8'));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${TABLE.pathname}: must be an object of "file": seconds`);
  }
  const out = new Map<string, number>();
  for (const [file, seconds] of Object.entries(raw)) {
    if (typeof seconds !== 'number' || !(seconds >= 0)) {
      throw new Error(`${TABLE.pathname}: "${file}" must be a number of seconds ≥ 0`);
    }
    out.set(file, seconds);
  }
  return out;
}

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const table = measured();
    const root = this.ctx.config.root;
    const info = new Map(
      files.map((spec) => {
        const file = relative(root, spec.moduleId);
        const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${file}`);
        const seconds = cached ? cached.duration / 1000 : (table.get(file) ?? 0);
        const size = this.ctx.cache.getFileStats(`${spec.project.name}:${file}`)?.size ?? 0;
        return [spec, { failed: cached?.failed === true, seconds, size }];
      }),
    );
    // One order over both projects, not project by project as vitest's own: they share one pool
    // (same groupOrder and maxWorkers), which runs the files in this order. Sorted by project
    // first, the seven 'isolated' shell files (a fresh fork each) held both forks for the first
    // 25 s of a run beside two busy loops before any long file had started.
    return [...files].sort((a, b) => {
      const x = info.get(a)!;
      const y = info.get(b)!;
      if (x.failed !== y.failed) return x.failed ? -1 : 1;
      return y.seconds - x.seconds || y.size - x.size;
    });
  }
}
