// What a simulated device has seen, as shown live (docs/design.md §7): the log (capped), the counters of
// publishes accepted/denied, subscriptions granted/refused and commands, the broker's last
// decision, and the topics it was refused on. Outcomes arrive as `Outcome`s (outcomes.ts).
import type { StateValue } from '../core/types.ts';
import type { LastDecision, Outcome } from './outcomes.ts';
import type { SimLogEntry, SimSnapshot } from './types.ts';

export class SimRecord {
  readonly log: SimLogEntry[] = [];
  readonly publishes = { accepted: 0, denied: 0 };
  readonly subscriptions = { granted: 0, refused: 0 };
  readonly denied = new Set<string>();
  commands = 0;
  reports = 0;
  attributes: Record<string, StateValue> = {};
  lastDecision: LastDecision | undefined;
  connectionReason: string | undefined;
  scopeChanged = false;
  stopReason: string | undefined;

  constructor(
    private readonly limit: number,
    private readonly onEntry: (entry: SimLogEntry) => void,
  ) {}

  add(entry: SimLogEntry): void {
    this.log.push(entry);
    if (this.log.length > this.limit) this.log.splice(0, this.log.length - this.limit);
    this.onEntry(entry);
  }

  note(kind: SimLogEntry['kind'], ok: boolean, detail: string, extra: Partial<SimLogEntry> = {}): void {
    this.add({ time: new Date().toISOString(), kind, ok, detail, ...extra });
  }

  apply(o: Outcome): void {
    if (o.count?.kind === 'publish') this.publishes[o.count.ok ? 'accepted' : 'denied']++;
    if (o.count?.kind === 'subscribe') this.subscriptions[o.count.ok ? 'granted' : 'refused']++;
    if (o.decision) this.lastDecision = o.decision;
    if (o.connectionReason) this.connectionReason = o.connectionReason;
    this.add(o.entry);
    if (o.deniedTopic !== undefined) this.markDenied(o.deniedTopic);
  }

  /** The broker refused a publish on `topic`: it is not published again (until a fresh start). */
  markDenied(topic: string): void {
    if (this.denied.has(topic)) return;
    this.denied.add(topic);
    this.note(
      'info',
      false,
      `the broker refused a publish on ${topic}: it will not be published again (and is never re-sent after the reconnect)`,
      { topic },
    );
  }

  /** The part of a snapshot this record holds (the log limited to its last `logLimit` entries). */
  fields(
    logLimit: number,
  ): Pick<
    SimSnapshot,
    | 'lastDecision'
    | 'connectionReason'
    | 'scopeChangedSinceConnect'
    | 'deniedTopics'
    | 'reports'
    | 'stopReason'
    | 'publishes'
    | 'subscriptions'
    | 'commands'
    | 'attributes'
    | 'log'
  > {
    return {
      ...(this.lastDecision ? { lastDecision: { ...this.lastDecision } } : {}),
      ...(this.connectionReason !== undefined ? { connectionReason: this.connectionReason } : {}),
      ...(this.scopeChanged ? { scopeChangedSinceConnect: true } : {}),
      deniedTopics: [...this.denied],
      reports: this.reports,
      ...(this.stopReason !== undefined ? { stopReason: this.stopReason } : {}),
      publishes: { ...this.publishes },
      subscriptions: { ...this.subscriptions },
      commands: this.commands,
      attributes: { ...this.attributes },
      log: logLimit > 0 ? this.log.slice(-logLimit) : [],
    };
  }
}
