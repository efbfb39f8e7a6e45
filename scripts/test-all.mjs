#!/usr/bin/env node
// `npm test`: lint, typecheck, vitest (unit + integration) and Playwright e2e, then ONE closing line
// over all suites: "N passed, N failed" (", N skipped" added when anything was skipped; the skip
// reasons are listed above it). CI reads only that line and the exit code. A skipped test is
// never counted as passed. Lint and typecheck run at the same time (each is one single-threaded
// process, and on 2 cores they finish together in the time of the longer one); their output is
// printed stage by stage, never interleaved. Vitest, the build and Playwright then run in turn:
// vitest's electron-vite dev test writes out/main, which the build must then replace before
// Playwright uses it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { runConcurrently, stageHeader } from './run-stages.mjs';

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

/**
 * @param {string} label
 * @param {string} cmd
 * @param {string[]} args
 * @param {Record<string, string>} [env]
 */
function run(label, cmd, args, env = {}) {
  process.stdout.write(stageHeader({ label, cmd, args }));
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

const checks = await runConcurrently([
  { label: 'lint', cmd: 'npm', args: ['run', '--silent', 'lint'] },
  { label: 'typecheck', cmd: 'npm', args: ['run', '--silent', 'typecheck'] },
]);
for (const { label, status } of checks) {
  const ok = status === 0;
  ok ? passed++ : failed++;
  summary.push(`${label}: ${ok ? 'ok' : 'FAILED'}`);
}

const vitestJson = `${results}/vitest.json`;
rmSync(vitestJson, { force: true });
const vStatus = run('vitest', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${vitestJson}`,
]);
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
    `vitest: ${v.numPassedTests} passed, ${v.numFailedTests} failed${vSkipped ? `, ${vSkipped} skipped` : ''}`,
  );
  if (vStatus !== 0 && v.numFailedTests === 0) {
    failed++;
    summary.push('vitest: exited non-zero (suite error)');
  }
} else {
  failed++;
  summary.push('vitest: no report (crashed)');
}

if (existsSync('playwright.config.ts')) {
  const pwJson = `${results}/playwright.json`;
  rmSync(pwJson, { force: true });
  const build = run('build', 'npm', ['run', 'build']); // the CLI bundle (e2e spawns it) and the app
  if (build !== 0) {
    failed++;
    summary.push('build: FAILED');
  }
  const pStatus = run('playwright', 'npx', ['playwright', 'test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson,
  });
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
    summary.push(`playwright: ${p} passed, ${f} failed${k ? `, ${k} skipped` : ''}`);
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
