// Reconnect back-off of a simulated device: exponential (base × factor^(n-1), capped), a bounded
// number of refused attempts, and a "stable" time after which past failures are forgotten.
export interface BackoffOptions {
  /** First delay (default 1000 ms). */
  baseMs?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
  /** Longest delay (default 60 s). */
  maxMs?: number;
  /** Refused or failed CONNECTs in a row before the simulation stops (default 5). */
  maxAttempts?: number;
  /** A connection up this long resets the failure count (default 10 s). */
  stableMs?: number;
  /** Random spread of each delay, ± this fraction (default 0.2), so a fleet that lost its broker
   * does not come back in one synchronised wave. */
  jitter?: number;
}

export type Backoff = Required<BackoffOptions>;

export const DEFAULT_BACKOFF: Backoff = {
  baseMs: 1000,
  factor: 2,
  maxMs: 60_000,
  maxAttempts: 5,
  stableMs: 10_000,
  jitter: 0.2,
};

export function backoffOptions(o: BackoffOptions = {}): Backoff {
  const b = { ...DEFAULT_BACKOFF, ...o };
  if (
    !(b.baseMs > 0) ||
    !(b.factor >= 1) ||
    !(b.maxMs >= b.baseMs) ||
    !Number.isInteger(b.maxAttempts) ||
    b.maxAttempts < 1 ||
    !(b.jitter >= 0 && b.jitter < 1)
  ) {
    throw new Error(`invalid back-off options ${JSON.stringify(o)}`);
  }
  return b;
}

/** Delay before retry number `failures` (1 = after the first failure). */
export function backoffDelay(failures: number, b: Backoff, rand: () => number = Math.random): number {
  const n = Math.max(1, failures);
  const spread = 1 + b.jitter * (2 * rand() - 1);
  return Math.min(b.maxMs, Math.round(b.baseMs * b.factor ** (n - 1) * spread));
}
