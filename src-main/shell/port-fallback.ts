// The desktop app starts on the default ports (docs/design.md §1); when one of them is taken (another
// broker, a second Keyport on another data directory) that ONE listener falls back to port 0 and
// the UI shows the real ports (app.info). The headless server does not do this: there an explicit
// port that is busy is an error the user has to see.
import type { RuntimeOptions } from '../server/runtime.ts';

export type PortOption = 'mqttPort' | 'wsPort' | 'tlsPort' | 'httpPort';

const FLAG_TO_OPTION: Record<string, PortOption> = {
  '--mqtt-port': 'mqttPort',
  '--ws-port': 'wsPort',
  '--tls-port': 'tlsPort',
  '--http-port': 'httpPort',
};

/**
 * Which port option a startup error is about, when the fix is "pick another port": the runtime's
 * listener errors say "port N on HOST is already in use (choose another with --mqtt-port, …)".
 * Anything else (data directory, store file, lock) returns null and must reach the user.
 */
export function busyPortOption(err: unknown): PortOption | null {
  if (!(err instanceof Error) || !/already in use|permission denied for port/.test(err.message)) return null;
  const flag = /--(?:mqtt|ws|tls|http)-port\b/.exec(err.message)?.[0];
  return flag ? (FLAG_TO_OPTION[flag] ?? null) : null;
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
