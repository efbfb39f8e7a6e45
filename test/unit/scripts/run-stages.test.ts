// `npm test` runs lint and typecheck at the same time: both really run at once, and each one's
// output is printed whole, in the order the stages are listed, with its exit status kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConcurrently, stageHeader } from '../../../scripts/run-stages.mjs';

const dir = mkdtempSync(join(tmpdir(), 'keyport-stages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const node = (label: string, code: string) => ({ label, cmd: process.execPath, args: ['-e', code] });

describe('runConcurrently', () => {
  it('runs the stages at once and prints each block whole, in the order listed', async () => {
    const flag = JSON.stringify(join(dir, 'second-ran'));
    // The first stage ends only after the second has run: run one after the other, this hangs.
    const first = node(
      'first',
      `const fs = require('node:fs');
       process.stdout.write('first: waiting\\n');
       const t = setInterval(() => {
         if (!fs.existsSync(${flag})) return;
         clearInterval(t);
         process.stdout.write('first: done\\n');
       }, 10);`,
    );
    const second = node(
      'second',
      `process.stdout.write('second: out\\n');
       process.stderr.write('second: err\\n');
       require('node:fs').writeFileSync(${flag}, '');
       process.exitCode = 3;`,
    );
    const writes: string[] = [];
    const results = await runConcurrently([first, second], (t) => writes.push(t));
    expect(results.map((r) => [r.label, r.status])).toEqual([
      ['first', 0],
      ['second', 3],
    ]);
    expect(writes).toEqual([
      `${stageHeader(first)}first: waiting\nfirst: done\n`,
      `${stageHeader(second)}second: out\nsecond: err\n`,
    ]);
    expect(stageHeader(first)).toBe(`\n=== first: ${process.execPath} -e ${first.args[1]}\n`);
  });

  it('a stage that cannot start, or that a signal ends, has failed, with the reason in its block', async () => {
    const writes: string[] = [];
    const results = await runConcurrently(
      [
        { label: 'missing', cmd: join(dir, 'no-such-program'), args: [] },
        node('killed', `process.kill(process.pid, 'SIGKILL');`),
      ],
      (t) => writes.push(t),
    );
    expect(results.map((r) => [r.label, r.status])).toEqual([
      ['missing', 1],
      ['killed', 1],
    ]);
    expect(writes[0]).toMatch(/cannot run \S+no-such-program: spawn \S+ ENOENT\n$/);
  });
});
