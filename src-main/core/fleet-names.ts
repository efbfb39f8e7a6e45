// Fleet device names (docs/design.md §7): one function for the simulator, `keyport simulate --fleet` and the
// fleet dialog's hint, so the names promised are the names made. The number is zero-padded to the
// width of the count (so names sort); a prefix that ends in a separator ("bench-", "bench_",
// "bench ") is followed directly by the number ("bench-01"), any other by a space
// ("Fleet device 01").
const SEPARATOR_END = /[-_ .:/#]$/;

export function fleetDeviceName(prefix: string, n: number, count: number): string {
  const num = String(n).padStart(String(count).length, '0');
  return `${prefix}${SEPARATOR_END.test(prefix) ? '' : ' '}${num}`.slice(0, 255);
}

/** "bench-01, bench-02, … bench-10" for a hint (fewer when the fleet is smaller). */
export function fleetNamesHint(prefix: string, count: number): string {
  const c = Math.max(1, Math.floor(count) || 1);
  const names = [1, 2].filter((n) => n <= c).map((n) => fleetDeviceName(prefix, n, c));
  if (c > 2) names.push(`… ${fleetDeviceName(prefix, c, c)}`);
  return names.join(', ');
}
