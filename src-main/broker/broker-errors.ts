// The broker's own errors: what aedes emits on itself, which would otherwise end the process.
/** How often at most a failing broker says so (ms); the errors in between are counted in the next line. */
const BROKER_ERROR_EVERY_MS = 10_000;

/**
 * aedes' own 'error' listener. aedes emits 'error' on itself when its emitter could not pass a
 * message on (cluster mode: Redis refused the command, or a node closing while Redis is away
 * dropped what ioredis had queued for it) and when a sweep of stale wills fails (aedes.js). With
 * no listener Node throws it: the whole node ended with a stack trace, before its store wrote what
 * was still pending (seen when a node was stopped with its Redis gone). The node goes on; the line
 * says what failed, at most every 10 s. While the broker closes nothing is said: the close itself
 * has said that Redis is away, and what was queued for the other nodes is dropped with it.
 */
export function brokerErrors(log: (line: string) => void, closing: () => boolean): (err: Error) => void {
  let lastAt = -Infinity;
  let unsaid = 0;
  return (err) => {
    if (closing()) return;
    unsaid++;
    const now = Date.now();
    if (now - lastAt < BROKER_ERROR_EVERY_MS) return;
    const more = unsaid > 1 ? ` (${unsaid} such errors since the last line)` : '';
    log(`keyport: the broker could not pass a message on: ${err.message}${more}`);
    lastAt = now;
    unsaid = 0;
  };
}
