#!/usr/bin/env node
// `npm test`: typecheck, vitest (unit + integration) and Playwright e2e, then ONE closing line
// over all suites: "N passed, N failed". CI reads only that line and the exit code.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const results = 'test-results';
mkdirSync(results, { recursive: true });
let passed = 0;
let failed = 0;
const summary = [];

function run(label, cmd, args, env = {}) {
  console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function check(label, cmd, args) {
  const ok = run(label, cmd, args) === 0;
  ok ? passed++ : failed++;
  summary.push(`${label}: ${ok ? 'ok' : 'FAILED'}`);
}

check('tsc', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.node.json']);
check('svelte-check', 'npx', [
  'svelte-check',
  '--tsconfig',
  './tsconfig.web.json',
  '--fail-on-warnings',
  '--output',
  'human',
]);

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
  summary.push(`vitest: ${v.numPassedTests} passed, ${v.numFailedTests} failed`);
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
    const s = JSON.parse(readFileSync(pwJson, 'utf8')).stats;
    const p = (s.expected ?? 0) + (s.flaky ?? 0);
    const f = s.unexpected ?? 0;
    passed += p;
    failed += f;
    summary.push(`playwright: ${p} passed, ${f} failed`);
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
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
