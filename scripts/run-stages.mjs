// Runs `npm test`'s independent stages at the same time without mixing their output: each stage's
// stdout and stderr are collected, and a stage's block is printed whole once it and every stage
// listed before it have ended, so the log reads as if they had run one after another.
import { spawn } from 'node:child_process';

/**
 * @typedef {{ label: string, cmd: string, args: string[], env?: Record<string, string> }} Stage
 * @typedef {{ label: string, status: number, output: string, seconds: number }} StageResult
 */

/**
 * The header line a stage's block starts with.
 * @param {Stage} s
 */
export const stageHeader = (s) => `\n=== ${s.label}: ${s.cmd} ${s.args.join(' ')}\n`;

/**
 * @param {Stage} stage
 * @returns {Promise<StageResult>}
 */
function runBuffered(stage) {
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    const chunks = [];
    const started = performance.now();
    const child = spawn(stage.cmd, stage.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...stage.env },
    });
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    let spawnFailed = false;
    child.once('error', (err) => {
      spawnFailed = true;
      chunks.push(Buffer.from(`cannot run ${stage.cmd}: ${err.message}\n`));
    });
    child.once('close', (code) => {
      // A stage that could not start, or that a signal ended (code null), has failed.
      const status = spawnFailed || code === null ? 1 : code;
      const seconds = (performance.now() - started) / 1000;
      resolve({ label: stage.label, status, output: Buffer.concat(chunks).toString(), seconds });
    });
  });
}

/**
 * Starts every stage at once; prints each block (header, then the stage's output) in the order
 * given, as soon as the stages before it have been printed.
 * @param {Stage[]} stages
 * @param {(text: string) => void} [write]
 * @returns {Promise<StageResult[]>} in the order given
 */
export async function runConcurrently(stages, write = (t) => process.stdout.write(t)) {
  const running = stages.map(runBuffered);
  /** @type {StageResult[]} */
  const results = [];
  for (const [i, stage] of stages.entries()) {
    const r = await /** @type {Promise<StageResult>} */ (running[i]);
    write(stageHeader(stage) + r.output);
    results.push(r);
  }
  return results;
}
