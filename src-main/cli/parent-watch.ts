// `keyport serve` stops when the process that started it goes away. Under `npm run serve` or
// `npx keyport serve`, a supervisor's SIGTERM reaches npm, which exits (143) without waiting for
// its child; the server would run on, orphaned, holding the data directory lock.
//
// Node has no parent-death signal (Linux prctl PR_SET_PDEATHSIG is not exposed), and stdin or an
// IPC channel exist only when the parent set them up, so the signal used is the one every POSIX
// process has: when a process dies, its children are re-parented (to init or a subreaper), so
// their parent pid changes. npm runs scripts through `sh -c`, which stays between npm and node;
// so under npm (npm_command is set in the environment) the grandparent is watched too, by
// reading the shell's parent pid from /proc (Linux). Elsewhere only the direct parent is watched.
// On Windows a dead parent's pid stays as ppid, so there it is checked for being alive.
import { readFileSync } from 'node:fs';
import { isProcessAlive } from '../shared/process-alive.ts';

/** How often the parents are checked (ms): how long an orphaned server lingers at most. */
export const PARENT_POLL_MS = 500;

/** The parent pid of `pid` from /proc (Linux), or null where that cannot be read. */
export function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may contain spaces and parentheses, so parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isSafeInteger(ppid) ? ppid : null;
  } catch {
    return null;
  }
}

/**
 * Calls `onGone` once when the parent of this process exits (or, under npm, npm itself). Does
 * nothing when the parent is init (ppid 1) or there is none (pid 1 in a container): nothing to
 * outlive. Returns a function that stops watching. The timer never keeps the process alive.
 */
export function watchParent(
  onGone: () => void,
  options: { pollMs?: number; env?: NodeJS.ProcessEnv } = {},
): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => {};
  const underNpm = (options.env ?? process.env).npm_command !== undefined;
  const grandparent = underNpm ? parentOf(parent) : null;
  const watchGrandparent = grandparent !== null && grandparent > 1;
  const timer = setInterval(() => {
    const parentGone = process.ppid !== parent || (process.platform === 'win32' && !isProcessAlive(parent));
    const grandparentGone = watchGrandparent && parentOf(parent) !== grandparent;
    if (!parentGone && !grandparentGone) return;
    clearInterval(timer);
    onGone();
  }, options.pollMs ?? PARENT_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
