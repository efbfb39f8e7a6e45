// What `keyport simulate` prints: one line per outcome as it happens
// (`12:00:01 thermo-1 connect accepted (connect.accepted)`, or one JSON object per line with
// --json), and a summary by reason code at the end.
import type { SimLogEntry } from '../simulator/types.ts';
import type { Plan } from './simulate-plan.ts';

/** What the run simulates, for its first line: a device, a fleet, or a shard of one. */
export function runLabel(plan: Plan): string {
  const f = plan.fleet;
  if (!f) return `device ${plan.single!.deviceId}`;
  if (!f.shard) return `a fleet of ${f.count}`;
  return `shard ${f.shard.index}/${f.shard.count} of a fleet of ${f.range.size}: devices ${f.range.first}–${f.range.last} (${f.count})`;
}

/** Where the devices are when the run stops: per broker, devices on it and connected; failovers in all. */
export function byBroker(
  sims: readonly { broker: string; connected: boolean; failovers: number }[],
  urls: readonly string[],
): { byBroker: Record<string, { devices: number; connected: number }>; failovers: number } {
  const out: Record<string, { devices: number; connected: number }> = {};
  for (const u of urls) out[u] = { devices: 0, connected: 0 };
  let failovers = 0;
  for (const s of sims) {
    const b = (out[s.broker] ??= { devices: 0, connected: 0 });
    b.devices++;
    if (s.connected) b.connected++;
    failovers += s.failovers;
  }
  return { byBroker: out, failovers };
}

const VERBS: Record<SimLogEntry['kind'], [string, string]> = {
  connect: ['connect accepted', 'connect refused'],
  publish: ['publish allowed', 'publish denied'],
  subscribe: ['subscribe granted', 'subscribe refused'],
  disconnect: ['disconnected', 'disconnected'],
  command: ['command', 'command'],
  backoff: ['back-off', 'back-off'],
  error: ['error', 'error'],
  info: ['', ''],
};

/** A simulated device moved to the next broker of its list (its node went away). */
const FAILOVER = 'broker.failover';

const clock = (iso: string): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toTimeString().slice(0, 8);
};

export function outcomeLine(name: string, e: SimLogEntry): string {
  const verb =
    e.reason === 'publish.sent' ? 'publish sent' : e.reason === FAILOVER ? 'failover' : VERBS[e.kind][e.ok ? 0 : 1];
  const topic = e.topic !== undefined && e.kind !== 'command' ? ` ${e.topic}` : '';
  const why = e.reason !== undefined ? ` (${e.reason}${e.source === 'client' ? ', client-side' : ''})` : '';
  const detail =
    e.kind === 'command' || e.kind === 'backoff' || e.kind === 'error' || e.kind === 'info' ? ` ${e.detail ?? ''}` : '';
  const on = e.kind === 'connect' && e.broker !== undefined ? ` on ${e.broker}` : '';
  return `${clock(e.time)} ${name} ${verb}${topic}${why}${on}${detail}`.replace(/ {2,}/g, ' ').trimEnd();
}

export function outcomeJson(sim: { name: string; deviceId: string; broker?: string }, e: SimLogEntry): string {
  const on = sim.broker !== undefined ? { on: sim.broker } : {};
  return JSON.stringify({ type: 'outcome', sim: sim.name, deviceId: sim.deviceId, ...on, ...e });
}

/** Counts outcomes by reason code (connect, publish, subscribe and disconnect outcomes, and failovers). */
export class Tally {
  readonly byReason: Record<string, number> = {};

  add(e: SimLogEntry): void {
    if (e.reason === undefined || e.kind === 'backoff' || e.kind === 'command') return;
    if (e.kind === 'info' && e.reason !== FAILOVER) return;
    this.byReason[e.reason] = (this.byReason[e.reason] ?? 0) + 1;
  }

  lines(header: string): string {
    const entries = Object.entries(this.byReason).sort(([a], [b]) => a.localeCompare(b));
    const width = Math.max(0, ...entries.map(([r]) => r.length));
    return [header, ...entries.map(([r, n]) => `  ${r.padEnd(width)}  ${n}`)].join('\n') + '\n';
  }
}
