// The desktop app starts on the default ports (docs/design.md §1); when one of them is taken (another
// broker, a second Keyport on another data directory) that ONE listener falls back to port 0 and
// the UI shows the real ports (app.info). The headless server does not do this: there an explicit
// port that is busy is an error the user has to see.
import type { RuntimeOptions } from '../server/runtime.ts';
import { isListenError, type ListenerKind } from '../shared/listen-error.ts';

export type PortOption = 'mqttPort' | 'wsPort' | 'tlsPort' | 'httpPort';

const OPTION_OF: Record<ListenerKind, PortOption> = {
  tcp: 'mqttPort',
  ws: 'wsPort',
  tls: 'tlsPort',
  http: 'httpPort',
};

/**
 * Which port option a startup error is about, when the fix is "pick another port": a ListenError
 * whose code says the port is taken or privileged (EADDRINUSE, EACCES), by its listener. Anything
 * else (data directory, store file, lock, a bad --host) returns null and must reach the user.
 */
export function busyPortOption(err: unknown): PortOption | null {
  return isListenError(err) && err.portUnavailable ? OPTION_OF[err.listener] : null;
}

export interface FallbackResult<R> {
  runtime: R;
  /** The options that were busy and got port 0 instead. */
  fellBack: PortOption[];
}

export async function startWithPortFallback<R>(
  start: (opts: RuntimeOptions) => Promise<R>,
  opts: RuntimeOptions,
): Promise<FallbackResult<R>> {
  let current: RuntimeOptions = { ...opts };
  const fellBack: PortOption[] = [];
  for (;;) {
    try {
      return { runtime: await start(current), fellBack };
    } catch (err) {
      const option = busyPortOption(err);
      // Each option falls back once at most, so this loop ends after four retries.
      if (!option || current[option] === 0) throw err;
      current = { ...current, [option]: 0 };
      fellBack.push(option);
    }
  }
}
