#!/usr/bin/env node
// `npm test`: lint, typecheck, vitest (unit + integration) and Playwright e2e, then ONE closing line
// over all suites: "N passed, N failed" (", N skipped" added when anything was skipped; the skip
// reasons are listed above it). CI reads only that line and the exit code. A skipped test is
// never counted as passed. Two stages, each running its parts at the same time: the five lint and
// typecheck tools and the build; then vitest and Playwright.
// On a 2-core machine shared with other work the scheduler shares the CPU per runnable process,
// so overlapping the parts both fills the gaps where one waits (sockets, timers, a 30 s Losant
// ban) and takes a fairer share of a busy machine.
// Each part's output is buffered and printed whole, in order (scripts/run-stages.mjs).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { buildState } from './build-state.mjs';
import { runConcurrently } from './run-stages.mjs';

const results = 'test-results';
mkdirSync(results, { recursive: true });
let passed = 0;
let failed = 0;
let skipped = 0;
const summary = [];
const skipReasons = [];

/**
 * The parts of Playwright's JSON report this script reads.
 * @typedef {{ type: string, description?: string }} PwAnnotation
 * @typedef {{ status: string, annotations?: PwAnnotation[] }} PwTest
 * @typedef {{ title: string, tests?: PwTest[] }} PwSpec
 * @typedef {{ title?: string, specs?: PwSpec[], suites?: PwSuite[] }} PwSuite
 */

/**
 * "title — reason" for every skipped Playwright test (its test.skip annotation holds the reason).
 * @param {PwSuite[]} suites
 * @returns {string[]}
 */
function playwrightSkips(suites) {
  /** @type {string[]} */
  const out = [];
  /**
   * @param {PwSuite} suite
   * @param {string[]} path
   */
  const walk = (suite, path) => {
    const here = suite.title ? [...path, suite.title] : path;
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        if (t.status !== 'skipped') continue;
        const note = (t.annotations ?? []).find((a) => a.type === 'skip')?.description;
        out.push(`${[...here, spec.title].join(' › ')} — ${note || 'no reason given'}`);
      }
    }
    for (const child of suite.suites ?? []) walk(child, here);
  };
  for (const suite of suites) walk(suite, []);
  return out;
}

const vitestJson = `${results}/vitest.json`;
const pwJson = `${results}/playwright.json`;
rmSync(vitestJson, { force: true });
rmSync(pwJson, { force: true });
const hasE2e = existsSync('playwright.config.ts');

// Stage 1: lint (eslint, the layering check, prettier), typecheck (tsc -b, svelte-check) and the
// build (the CLI bundle the CLI tests and e2e spawn, and the app Playwright opens) need nothing of
// each other.
// The build is skipped when out/ is already the build of these exact sources (scripts/build-state.mjs):
// on a fresh clone `npm ci`'s `prepare` has just made it, and building again costs CPU a busy
// machine does not have. Any edit since makes it build.
const state = buildState(process.cwd());
if (state.fresh) console.log('build: up to date (out/ was built from these sources; out/build-manifest.json)');
else console.log(`build: building (${state.why})`);
// `npm run lint` and `npm run typecheck` are each a chain of single-threaded tools; here their
// parts run side by side instead (longest first). On a quiet 2-core machine that only fills both
// cores; on one shared with other busy processes the scheduler gives each runnable process its
// share, so six parts get more of the machine than two chains. ESLint is two of them: the main
// process's sources, with the type-aware rules and their type program, and everything else. As
// one process it ended 30 s after every other part of a cold run beside two busy loops (107 s
// against tsc's 77 s), alone on the machine's share for that time.
/** @type {import('./run-stages.mjs').Stage[]} */
const stage1 = [
  { label: 'eslint src-main', cmd: 'npm', args: ['run', '--silent', 'lint:eslint:main'] },
  { label: 'eslint rest', cmd: 'npm', args: ['run', '--silent', 'lint:eslint:rest'] },
  { label: 'tsc', cmd: 'npm', args: ['run', '--silent', 'typecheck:tsc'] },
  { label: 'prettier', cmd: 'npm', args: ['run', '--silent', 'lint:format'] },
  { label: 'svelte-check', cmd: 'npm', args: ['run', '--silent', 'typecheck:svelte'] },
  { label: 'layers', cmd: 'npm', args: ['run', '--silent', 'lint:layers'] },
  ...(state.fresh ? [] : [{ label: 'build', cmd: 'npm', args: ['run', '--silent', 'build'] }]),
];
const first = await runConcurrently(stage1);
for (const { label, status, seconds } of first) {
  const ok = status === 0;
  if (label !== 'build' || !ok) ok ? passed++ : failed++;
  summary.push(`${label}: ${ok ? 'ok' : 'FAILED'} (${seconds.toFixed(0)} s)`);
}
if (state.fresh) summary.push('build: up to date');
const built = state.fresh || first.find((r) => r.label === 'build')?.status === 0;

// Stage 2: vitest and Playwright at the same time, once stage 1 has ended. Both only read out/
// (electron-start.test.ts builds in a copy of the project); every server, broker and client picks
// its own port. Starting them while eslint and tsc were still running was tried and measured
// slower, quiet (289 s against 261 s) and beside two busy loops (410 s against 364 s): the
// contention cost more CPU than the overlap saved.
const second = await runConcurrently([
  {
    label: 'vitest',
    cmd: 'npx',
    args: ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`],
  },
  ...(hasE2e && built
    ? [
        {
          label: 'playwright',
          cmd: 'npx',
          args: ['playwright', 'test', '--reporter=list,json'],
          env: { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson },
        },
      ]
    : []),
]);
const vStatus = second[0]?.status ?? 1;
const pStatus = second[1]?.status ?? 1;
/** " (N s)": how long a stage-2 part ran, for the summary. */
const took = (/** @type {import('./run-stages.mjs').StageResult | null | undefined} */ r) =>
  r ? ` (${r.seconds.toFixed(0)} s)` : '';

if (existsSync(vitestJson)) {
  const v = JSON.parse(readFileSync(vitestJson, 'utf8'));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  const vSkipped = (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0);
  skipped += vSkipped;
  // vitest's JSON report keeps no skip note: name the test and its file instead.
  for (const file of v.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (['skipped', 'pending', 'todo'].includes(t.status)) {
        skipReasons.push(`vitest: ${t.fullName} (${t.status}, ${file.name.replace(`${process.cwd()}/`, '')})`);
      }
    }
  }
  summary.push(
    `vitest: ${v.numPassedTests} passed, ${v.numFailedTests} failed${vSkipped ? `, ${vSkipped} skipped` : ''}${took(second[0])}`,
  );
  if (vStatus !== 0 && v.numFailedTests === 0) {
    failed++;
    summary.push('vitest: exited non-zero (suite error)');
  }
} else {
  failed++;
  summary.push('vitest: no report (crashed)');
}

if (hasE2e && !built) {
  failed++;
  summary.push('playwright: not run (the build failed)');
} else if (hasE2e) {
  if (existsSync(pwJson)) {
    const report = JSON.parse(readFileSync(pwJson, 'utf8'));
    const s = report.stats;
    const p = (s.expected ?? 0) + (s.flaky ?? 0);
    const f = s.unexpected ?? 0;
    const k = s.skipped ?? 0;
    passed += p;
    failed += f;
    skipped += k;
    for (const reason of playwrightSkips(report.suites ?? [])) skipReasons.push(`playwright: ${reason}`);
    summary.push(`playwright: ${p} passed, ${f} failed${k ? `, ${k} skipped` : ''}${took(second[1])}`);
    if (pStatus !== 0 && f === 0) {
      failed++;
      summary.push('playwright: exited non-zero (suite error)');
    }
  } else {
    failed++;
    summary.push('playwright: no report (crashed)');
  }
}

console.log('\n' + summary.join('\n'));
if (skipReasons.length) console.log('skipped:\n' + skipReasons.map((r) => `  - ${r}`).join('\n'));
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
