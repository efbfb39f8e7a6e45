#!/usr/bin/env node
// Rewrites test/file-durations.json (the order test/helpers/sequencer.ts gives a fresh clone) from
// the vitest report `npm test` leaves in test-results/vitest.json: the seconds each test file took,
// for the files that took a second or more, longest first. Run it after a full `npm test` when the
// slow files have changed: `node scripts/file-durations.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const report = resolve('test-results/vitest.json');
const target = resolve('test/file-durations.json');
/** @type {{ testResults?: { name: string, startTime: number, endTime: number }[] }} */
let json;
try {
  json = JSON.parse(readFileSync(report, 'utf8'));
} catch (err) {
  console.error(
    `file-durations: cannot read ${report} (${err instanceof Error ? err.message : String(err)}); run npm test first`,
  );
  process.exit(1);
}
const rows = (json.testResults ?? [])
  .map((f) => ({ file: relative(process.cwd(), f.name), seconds: (f.endTime - f.startTime) / 1000 }))
  .filter((r) => Number.isFinite(r.seconds) && r.seconds >= 1)
  .sort((a, b) => b.seconds - a.seconds);
if (rows.length === 0) {
  console.error(`file-durations: ${report} names no test file that took 1 s or more; nothing written`);
  process.exit(1);
}
const table = Object.fromEntries(rows.map((r) => [r.file, Math.round(r.seconds * 10) / 10]));
writeFileSync(target, `${JSON.stringify(table, null, 2)}\n`);
console.log(`file-durations: ${rows.length} files written to ${relative(process.cwd(), target)}`);
