// Runs `npm test`'s independent stages at the same time without mixing their output: each stage's
// stdout and stderr are collected, and a stage's block is printed whole once it and every stage
// listed before it have ended, so the log reads as if they had run one after another.
import { spawn } from 'node:child_process';

/**
 * @typedef {{ label: string, cmd: string, args: string[], env?: Record<string, string> }} Stage
 * @typedef {{ label: string, status: number, output: string }} StageResult
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
      resolve({ label: stage.label, status, output: Buffer.concat(chunks).toString() });
    });
  });
}

/**
 * Starts one stage now; resolves (never rejects) with its status and its collected output.
 * @param {Stage} stage
 * @returns {Promise<StageResult>}
 */
export const startStage = (stage) => runBuffered(stage);

/**
 * Resolves once at most `n` of the given stages are still running.
 * @param {Promise<unknown>[]} running
 * @param {number} n
 * @returns {Promise<void>}
 */
export function whenAtMost(running, n) {
  return new Promise((resolve) => {
    let pending = running.length;
    if (pending <= n) return resolve();
    const done = () => {
      if (--pending <= n) resolve();
    };
    for (const p of running) p.then(done, done);
  });
}

/**
 * Prints each stage's block (header, then its output) in the order given, as soon as it and the
 * stages before it have ended. A stage whose promise resolves to null did not run: nothing printed.
 * @param {Stage[]} stages
 * @param {Promise<StageResult | null>[]} running
 * @param {(text: string) => void} [write]
 * @returns {Promise<(StageResult | null)[]>} in the order given
 */
export async function printInOrder(stages, running, write = (t) => process.stdout.write(t)) {
  /** @type {(StageResult | null)[]} */
  const results = [];
  for (const [i, stage] of stages.entries()) {
    const r = await /** @type {Promise<StageResult | null>} */ (running[i]);
    if (r) write(stageHeader(stage) + r.output);
    results.push(r);
  }
  return results;
}

/**
 * Starts every stage at once; prints each block (header, then the stage's output) in the order
 * given, as soon as the stages before it have been printed.
 * @param {Stage[]} stages
 * @param {(text: string) => void} [write]
 * @returns {Promise<StageResult[]>} in the order given
 */
export async function runConcurrently(stages, write = (t) => process.stdout.write(t)) {
  return /** @type {Promise<StageResult[]>} */ (printInOrder(stages, stages.map(runBuffered), write));
}
