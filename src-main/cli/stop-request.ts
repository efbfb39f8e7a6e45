// When a long-running command (serve, simulate) is asked to stop. It listens from the moment it is
// made, before anything starts, so a signal that arrives while the command is starting, or the
// instant after it printed that it is ready, is caught rather than lost. Until a process listens
// for SIGTERM the kernel applies the default action and kills it outright: a supervisor or script
// that sends SIGTERM as soon as it reads the ready line would otherwise kill a server that has
// not yet installed its handlers, leaving the journal unfolded and the lock stale (seen under
// load in test/fault/kill9-writes.test.ts).
//
// The first signal is the one that counts. Its listeners are removed at once, so a second signal
// during a slow shutdown gets the default action: pressing Ctrl+C twice stops at once, as in most
// servers, and nothing acknowledged is lost by that (the journal replays at the next start).
import type { SignalSource } from './io.ts';

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

export interface StopRequest {
  /** Why the command was asked to stop (the signal's name, or the reason given to request), or null. */
  readonly reason: string | null;
  /** Resolves with the reason once the command has been asked to stop. */
  readonly stopped: Promise<string>;
  /** Asks to stop for a reason other than a signal (the parent process went away). */
  request(reason: string): void;
  /** Stops listening; a signal after this gets the default action. */
  dispose(): void;
}

export function listenForStop(
  signals: SignalSource,
  names: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'],
): StopRequest {
  let reason: string | null = null;
  let resolveStopped: (r: string) => void = () => {};
  const stopped = new Promise<string>((res) => (resolveStopped = res));
  const listeners = names.map((name) => [name, () => request(name)] as const);
  const dispose = () => {
    for (const [name, fn] of listeners) signals.off(name, fn);
  };
  const request = (why: string) => {
    if (reason !== null) return;
    reason = why;
    dispose();
    resolveStopped(why);
  };
  for (const [name, fn] of listeners) signals.once(name, fn);
  return {
    get reason() {
      return reason;
    },
    stopped,
    request,
    dispose,
  };
}
