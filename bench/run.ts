// `npm run bench [-- --quick] [-- --only connect|publish|subs|keys|tags|auth|fleet|cli|wire|store|cluster|cost]` | `-- --readme [--from FILE]`: what access keys cost
// against plain aedes and mosquitto. Prints tables, writes bench/results/latest.json, and after a
// full run (no --quick, no --only) also bench/results/reference.json (committed).
// Everything runs on 127.0.0.1, every loop is bounded in count and time, and a watchdog ends the
// run if it ever overruns.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchCliStart } from './cli-start.ts';
import { benchConnect } from './connect.ts';
import { benchCost } from './cost.ts';
import { benchFleet } from './fleet.ts';
import { benchKeyCount } from './key-count.ts';
import { benchPublish } from './publish.ts';
import { benchTagScope } from './tag-scope.ts';
import { benchDeviceAuth } from './device-auth.ts';
import { benchWire } from './wire.ts';
import { benchStore } from './store.ts';
import { benchCluster } from './cluster.ts';
import { benchSubscriptions } from './subscriptions.ts';
import type { BenchOptions, Section } from './lib/report.ts';
import { curveTable } from './lib/curve.ts';
import { renderReadmeSection } from './lib/readme.ts';
import { spliceReadme } from './lib/readme-splice.ts';
import { issueTargets, verdictText } from './lib/targets.ts';
import { renderTable } from './lib/table.ts';
import './lib/cleanup.ts';
import { mosquittoVersion } from './lib/mosquitto.ts';

const SECTIONS = [
  'connect',
  'publish',
  'subs',
  'keys',
  'tags',
  'auth',
  'fleet',
  'cli',
  'wire',
  'store',
  'cluster',
  'cost',
] as const;
type SectionId = (typeof SECTIONS)[number];
const RUNNERS: Record<SectionId, (o: BenchOptions) => Promise<Section>> = {
  connect: benchConnect,
  publish: benchPublish,
  subs: benchSubscriptions,
  keys: benchKeyCount,
  tags: benchTagScope,
  auth: benchDeviceAuth,
  fleet: benchFleet,
  cli: benchCliStart,
  wire: benchWire,
  store: benchStore,
  cluster: benchCluster,
  cost: benchCost,
};

function usage(msg: string): never {
  process.stderr.write(
    `bench: ${msg}\nusage: npm run bench -- [--quick] [--only ${SECTIONS.join('|')}[,…]] | --readme [--from FILE] [--partial]\n`,
  );
  process.exit(2);
}

interface Args {
  quick: boolean;
  only: SectionId[] | null;
  readme: boolean;
  from: string | null;
  partial: boolean;
}

function parseArgs(argv: string[]): Args {
  let quick = false;
  let readme = false;
  let partial = false;
  let from: string | null = null;
  let only: SectionId[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--quick') quick = true;
    else if (a === '--readme') readme = true;
    else if (a === '--partial') partial = true;
    else if (a === '--from') from = argv[++i] ?? usage('--from needs a file');
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!v) usage('--only needs a value');
      const parts = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const p of parts) if (!(SECTIONS as readonly string[]).includes(p)) usage(`unknown section "${p}"`);
      only = [...(only ?? []), ...(parts as SectionId[])];
    } else usage(`unknown argument "${a}"`);
  }
  if ((from !== null || partial) && !readme) usage('--from and --partial go with --readme');
  return { quick, only, readme, from, partial };
}

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const README_SECTION = fileURLToPath(new URL('./README-section.md', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** `--readme`: the Performance section from a results file, into bench/README-section.md and README.md. */
function writeReadme(from: string | null, partial: boolean): void {
  const file = from ?? `${RESULTS_DIR}latest.json`;
  const shown = from ?? 'bench/results/latest.json';
  const result = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const full = result.kind === 'full' && !result.only;
  if (!full && !partial) {
    process.stderr.write(
      `bench: ${shown} is from a ${String(result.kind)} run${result.only ? ` of ${String(result.only)} only` : ''}, not a full run: run \`npm run bench\` first (or add --partial to render it anyway, its missing parts shown as not measured)\n`,
    );
    process.exit(2);
  }
  const section = renderReadmeSection(result, shown);
  writeFileSync(README_SECTION, section);
  writeFileSync(README, spliceReadme(readFileSync(README, 'utf8'), section));
  console.log(`wrote bench/README-section.md and README.md's Performance section from ${shown}`);
}

function machine(): Record<string, unknown> {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  let nproc = availableParallelism();
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // no nproc
  }
  const mosquitto = mosquittoVersion();
  const pkg = JSON.parse(
    readFileSync(fileURLToPath(new URL('../node_modules/aedes/package.json', import.meta.url)), 'utf8'),
  ) as { version: string };
  return {
    nproc,
    cpuModel,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    aedes: pkg.version,
    mosquitto,
    exposeGc: typeof globalThis.gc === 'function',
  };
}

async function main(): Promise<void> {
  const { quick, only, readme, from, partial } = parseArgs(process.argv.slice(2));
  if (readme) return writeReadme(from, partial);
  const which = only ?? [...SECTIONS];
  // --quick: 10 min (subs alone connects 10,000 clients per side and round: about 2 min on a busy 2-core machine).
  const watchdogMs = quick ? 10 * 60_000 : 60 * 60_000;
  setTimeout(() => {
    process.stderr.write(`bench: watchdog: still running after ${watchdogMs / 60_000} min, giving up\n`);
    process.exit(3);
  }, watchdogMs).unref();

  const started = new Date();
  const loadAvgStart = loadavg();
  const t0 = performance.now();
  const info = machine();
  const log = (line: string) => process.stderr.write(`  · ${line}\n`);
  console.log(`Keyport bench ${quick ? '(--quick)' : '(full)'} — ${started.toISOString()}`);
  console.log(
    "limits: off (every Keyport broker here runs with --limits off: Losant's throttling would cap the rates)",
  );
  console.log(`load average: ${loadAvgStart.map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`);
  console.log(
    `machine: ${info.nproc} cores, ${info.cpuModel}, ${info.memoryGiB} GiB, Node ${info.node}, aedes ${info.aedes}, ${info.mosquitto}${info.exposeGc ? '' : ' (no --expose-gc: memory figures are noisier)'}`,
  );

  const sections: Section[] = [];
  for (const id of which) {
    const s0 = performance.now();
    console.log(`\n== ${id} ==`);
    const section = await RUNNERS[id]({ quick, log });
    (section.data as Record<string, unknown>).seconds = Math.round((performance.now() - s0) / 100) / 10;
    sections.push(section);
    for (const t of section.tables) console.log('\n' + renderTable(t.title, t.header, t.rows));
    for (const n of section.notes) console.log(`  note: ${n}`);
  }

  const targets = sections.flatMap((s) => s.targets);
  if (targets.length) {
    console.log(
      '\n' +
        renderTable(
          'Targets',
          ['target', 'measured', 'limit', 'met'],
          targets.map((t) => [t.name, String(t.value), t.limit, t.met ? 'yes' : 'NO']),
        ),
    );
  }
  const seconds = Math.round((performance.now() - t0) / 100) / 10;
  const result = {
    kind: quick ? 'quick' : 'full',
    only,
    date: started.toISOString(),
    seconds,
    machine: info,
    noise: {
      loadAvgStart: loadAvgStart.map((x) => Math.round(x * 100) / 100),
      loadAvgEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    sections: Object.fromEntries(
      sections.map((s) => [s.id, { title: s.title, ...s.data, tables: s.tables, notes: s.notes }]),
    ),
    targets,
  };
  const curve = curveTable(result);
  console.log('\n' + renderTable(curve.title, curve.header, curve.rows));
  console.log(
    '\n' +
      renderTable(
        'Issue 17 targets',
        ['target', 'measured', 'limit', 'verdict'],
        issueTargets(result).map((t) => [t.name, t.measured, t.limit, verdictText(t.met)]),
      ),
  );
  console.log(`load average at the end: ${result.noise.loadAvgEnd.join(' / ')}`);
  const dir = RESULTS_DIR;
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(result, null, 2) + '\n';
  writeFileSync(`${dir}latest.json`, json);
  console.log(`\nwrote bench/results/latest.json`);
  if (!quick && !only) {
    writeFileSync(`${dir}reference.json`, json);
    console.log('wrote bench/results/reference.json (full run: commit it)');
    writeFileSync(README_SECTION, renderReadmeSection(JSON.parse(json) as Record<string, unknown>));
    console.log(
      'wrote bench/README-section.md (the README "Performance" section, from this run; `npm run bench -- --readme` puts it into README.md)',
    );
  }
  console.log(`total ${seconds} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
