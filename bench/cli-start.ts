// 5. CLI start-up: the wall time of `keyport devices list` with no server running (it takes the
// data directory lock and opens the store itself), spawned the way a user or a script runs it,
// from spawn to exit. Compared round by round with `keyport help` (no store), bare `node -e 0`
// (Node's own start-up on this machine) and the pre-bundle path (tsx compiling src-main at every
// call). Target: devices list under 300 ms (issue 10).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleState } from '../bin/cli-bundle.mjs';
import { buildCli } from '../scripts/build-cli.mjs';
import type { BenchOptions, Section } from './lib/report.ts';
import { fmt, median, p95, round } from './lib/stats.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '../..');
const BIN = join(REPO, 'bin', 'keyport.mjs');

/** The bin as it was before the bundle: tsx registered, then the TypeScript entry imported. */
const TSX_BIN = `import { register } from 'tsx/esm/api';
register();
const { main } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'src-main/cli/main.ts')).href)});
process.exitCode = await main(process.argv.slice(1));`;

/** Runs one command to its exit; resolves with the wall time in ms. Fails on a non-zero exit. */
function timed(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', rej);
    child.once('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) rej(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
      else if (stderr) rej(new Error(`node ${args.join(' ')} wrote to stderr (stale bundle?): ${stderr}`));
      else res(ms);
    });
  });
}

export async function benchCliStart(opts: BenchOptions): Promise<Section> {
  const rounds = opts.quick ? 8 : 25;
  const tsxRounds = opts.quick ? 2 : 5;
  if (bundleState(REPO).state !== 'fresh') {
    opts.log('cli: building out/cli (missing or older than the sources)');
    await buildCli(REPO);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'keyport-bench-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, KEYPORT_DATA: dataDir };
  delete env.NODE_OPTIONS; // --expose-gc and tsx's loader are the bench runner's, not the CLI's
  try {
    // A store with a few devices, so `devices list` reads and prints something.
    for (let i = 1; i <= 5; i++) await timed([BIN, 'devices', 'create', '--name', `bench ${i}`, '--tag', 'k=v'], env);
    const cases = [
      { name: 'keyport devices list', args: [BIN, 'devices', 'list'] },
      { name: 'keyport help', args: [BIN, 'help'] },
      { name: 'node -e 0 (Node start-up alone)', args: ['-e', '0'] },
    ];
    const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    // Round 0 warms the page cache and is not counted; the cases alternate within each round.
    for (let r = 0; r <= rounds; r++) {
      for (const c of cases) {
        const ms = await timed(c.args, env);
        if (r > 0) samples.get(c.name)!.push(ms);
      }
    }
    const tsxName = 'devices list through tsx (the bin before the bundle)';
    const tsx: number[] = [];
    for (let r = 0; r <= tsxRounds; r++) {
      const ms = await timed(['--input-type=module', '-e', TSX_BIN, 'devices', 'list'], env);
      if (r > 0) tsx.push(ms);
    }
    samples.set(tsxName, tsx);
    opts.log(`cli: ${rounds} rounds (${tsxRounds} through tsx)`);

    const rows = [...samples].map(([name, xs]) => [
      name,
      fmt(Math.min(...xs)),
      fmt(median(xs)),
      fmt(p95(xs)),
      String(xs.length),
    ]);
    const list = samples.get('keyport devices list')!;
    const node = samples.get('node -e 0 (Node start-up alone)')!;
    const p50 = round(median(list), 1);
    return {
      id: 'cli',
      title: 'CLI start-up',
      tables: [{ title: 'CLI start-up, spawn to exit (ms)', header: ['command', 'min', 'p50', 'p95', 'runs'], rows }],
      data: {
        rounds,
        results: [...samples].map(([name, xs]) => ({
          name,
          min: round(Math.min(...xs), 1),
          p50: round(median(xs), 1),
          p95: round(p95(xs), 1),
        })),
        date: new Date().toISOString(),
        devicesListP50: p50,
        devicesListMin: round(Math.min(...list), 1),
        nodeP50: round(median(node), 1),
        tsxP50: round(median(tsx), 1),
      },
      targets: [{ name: 'keyport devices list, no server (p50, ms)', value: p50, limit: '< 300', met: p50 < 300 }],
      notes: [
        'Spawned with `node bin/keyport.mjs`, a store of 5 devices, no server owning the data directory. On a shared machine the min column is the least-disturbed run; compare every row with node -e 0 of the same run.',
      ],
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
