// What `keyport simulate` prints: one line per outcome as it happens
// (`12:00:01 thermo-1 connect accepted (connect.accepted)`, or one JSON object per line with
// --json), and a summary by reason code at the end.
import type { SimLogEntry } from '../simulator/types.ts';

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

const clock = (iso: string): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toTimeString().slice(0, 8);
};

export function outcomeLine(name: string, e: SimLogEntry): string {
  const verb = e.reason === 'publish.sent' ? 'publish sent' : VERBS[e.kind][e.ok ? 0 : 1];
  const topic = e.topic !== undefined && e.kind !== 'command' ? ` ${e.topic}` : '';
  const why = e.reason !== undefined ? ` (${e.reason}${e.source === 'client' ? ', client-side' : ''})` : '';
  const detail =
    e.kind === 'command' || e.kind === 'backoff' || e.kind === 'error' || e.kind === 'info' ? ` ${e.detail ?? ''}` : '';
  return `${clock(e.time)} ${name} ${verb}${topic}${why}${detail}`.replace(/ {2,}/g, ' ').trimEnd();
}

export function outcomeJson(sim: { name: string; deviceId: string }, e: SimLogEntry): string {
  return JSON.stringify({ type: 'outcome', sim: sim.name, deviceId: sim.deviceId, ...e });
}

/** Counts outcomes by reason code (connect, publish, subscribe and disconnect outcomes). */
export class Tally {
  readonly byReason: Record<string, number> = {};

  add(e: SimLogEntry): void {
    if (e.reason === undefined || e.kind === 'backoff' || e.kind === 'info' || e.kind === 'command') return;
    this.byReason[e.reason] = (this.byReason[e.reason] ?? 0) + 1;
  }

  lines(header: string): string {
    const entries = Object.entries(this.byReason).sort(([a], [b]) => a.localeCompare(b));
    const width = Math.max(0, ...entries.map(([r]) => r.length));
    return [header, ...entries.map(([r, n]) => `  ${r.padEnd(width)}  ${n}`)].join('\n') + '\n';
  }
}
