// Per-key throttle: the first push for a key fires at once, later pushes within `intervalMs`
// collapse into one trailing fire. Keeps per-device and per-simulation events to a few a second.
export interface KeyedThrottle {
  push(key: string): void;
  /** Fire now for every key still waiting (a subscription closing delivers what it still owes). */
  flush(): void;
  cancel(): void;
}

export function keyedThrottle(
  intervalMs: number | ((key: string) => number),
  fire: (key: string) => void,
): KeyedThrottle {
  const last = new Map<string, number>();
  const pending = new Map<string, NodeJS.Timeout>();
  const interval = typeof intervalMs === 'number' ? () => intervalMs : intervalMs;
  const run = (key: string) => {
    pending.delete(key);
    last.set(key, Date.now());
    fire(key);
  };
  return {
    push(key) {
      if (pending.has(key)) return;
      const wait = (last.get(key) ?? -Infinity) + interval(key) - Date.now();
      if (wait <= 0) return run(key);
      const t = setTimeout(() => run(key), wait);
      t.unref();
      pending.set(key, t);
    },
    flush() {
      for (const [key, t] of [...pending]) {
        clearTimeout(t);
        run(key);
      }
    },
    cancel() {
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
      last.clear();
    },
  };
}
