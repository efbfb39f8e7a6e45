// The Simulator view's live state: simulated devices and fleets, kept in sync by the
// `simulator.*` events, plus the demo scenarios. The view calls loadSimulator() on mount;
// the event subscriptions are made once and outlive the view, so nothing is missed between visits.
import type { FleetSummary, ScenarioInfo, ScenarioName, SimSnapshot } from '../../../src-main/contract.ts';
import { api, errorMessage } from '../../lib/api.ts';

/**
 * Snapshots are replaced whole by each event, never edited in place, so the lists are raw state:
 * a fleet of hundreds of devices sending several events each must not deep-proxy every log.
 */
class SimulatorState {
  sims = $state.raw<SimSnapshot[]>([]);
  fleets = $state.raw<FleetSummary[]>([]);
  scenarios = $state.raw<ScenarioInfo[]>([]);
  /** Scenarios run from this tab (their expected outcomes stay visible). */
  ran = $state.raw<ScenarioName[]>([]);
  /** The sims each scenario's latest run made (a re-run makes new ones with the same names). */
  lastRun = $state.raw<Partial<Record<ScenarioName, string[]>>>({});
  /** Every reason code each scenario sim has been given so far (its log is bounded; this is not). */
  seen = $state.raw<Record<string, string[]>>({});
  loaded = $state(false);
  loadError = $state('');
}

export const sim = new SimulatorState();

/** How `seen` records that a sim got `reason` after it got `after` (reason codes hold no ">"). */
const afterKey = (after: string, reason: string): string => `${after}>${reason}`;

/** Remember the reason codes in a scenario sim's snapshot (its last decision and its log). */
function note(s: SimSnapshot): void {
  if (!s.scenario) return;
  const known = sim.seen[s.id] ?? [];
  const fresh = new Set<string>();
  if (s.lastDecision) fresh.add(s.lastDecision.reason);
  for (const e of s.log) if (e.reason) fresh.add(e.reason);
  // Ordered outcomes ("accepted again after the ban"): both in this log, in that order. The log
  // keeps the last 100 entries and a snapshot comes with every change, so the pair is caught.
  for (const ex of sim.scenarios.find((x) => x.name === s.scenario)?.expected ?? []) {
    if (!ex.after) continue;
    const first = s.log.findIndex((e) => e.reason === ex.after);
    if (first >= 0 && s.log.some((e, i) => i > first && e.reason === ex.reason))
      fresh.add(afterKey(ex.after, ex.reason));
  }
  const added = [...fresh].filter((r) => !known.includes(r));
  if (added.length) sim.seen = { ...sim.seen, [s.id]: [...known, ...added] };
}

/** While simulator.list is in flight: what events changed meanwhile (newer than the reply). */
let inFlight: { sims: Map<string, SimSnapshot>; fleets: Map<string, FleetSummary>; removed: Set<string> } | null = null;

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  const i = list.findIndex((x) => x.id === item.id);
  if (i < 0) return [...list, item];
  const next = [...list];
  next[i] = item;
  return next;
}

/** Replace the list with the server's, keeping what events said while the call was in flight. */
function merge<T extends { id: string }>(server: T[], newer: Map<string, T>, removed: Set<string>): T[] {
  const out = server.filter((x) => !removed.has(x.id)).map((x) => newer.get(x.id) ?? x);
  for (const x of newer.values()) if (!out.some((y) => y.id === x.id)) out.push(x);
  return out;
}

export function putSim(s: SimSnapshot): void {
  note(s);
  inFlight?.sims.set(s.id, s);
  inFlight?.removed.delete(s.id);
  sim.sims = upsert(sim.sims, s);
}

export function dropSim(id: string): void {
  inFlight?.sims.delete(id);
  inFlight?.removed.add(id);
  sim.sims = sim.sims.filter((s) => s.id !== id);
  if (id in sim.seen) {
    const { [id]: _, ...rest } = sim.seen;
    sim.seen = rest;
  }
}

export function putFleet(f: FleetSummary): void {
  inFlight?.fleets.set(f.id, f);
  inFlight?.removed.delete(f.id);
  sim.fleets = upsert(sim.fleets, f);
}

export function dropFleet(id: string): void {
  inFlight?.fleets.delete(id);
  inFlight?.removed.add(id);
  sim.fleets = sim.fleets.filter((f) => f.id !== id);
  sim.sims = sim.sims.filter((s) => s.fleetId !== id);
}

let subscribed = false;
function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  api.on('simulator.changed', putSim);
  api.on('simulator.removed', ({ id }) => {
    dropSim(id);
    if (sim.fleets.some((f) => f.id === id)) dropFleet(id);
  });
  api.on('simulator.fleet', putFleet);
}

export async function loadSimulator(): Promise<void> {
  subscribe();
  const mine = (inFlight = { sims: new Map(), fleets: new Map(), removed: new Set() });
  try {
    const [list, scenarios] = await Promise.all([
      api.call('simulator.list', {}),
      sim.scenarios.length ? Promise.resolve(sim.scenarios) : api.call('simulator.scenarios', {}),
    ]);
    if (inFlight !== mine) return; // a newer load replaced this one
    sim.sims = merge(list.sims, mine.sims, mine.removed);
    sim.sims.forEach(note);
    sim.fleets = merge(list.fleets, mine.fleets, mine.removed);
    sim.scenarios = scenarios;
    sim.loaded = true;
    sim.loadError = '';
    void backfillOutcomes();
  } catch (err) {
    if (inFlight === mine) sim.loadError = errorMessage(err);
  } finally {
    if (inFlight === mine) inFlight = null;
  }
}

export function markRan(name: ScenarioName, simIds: string[]): void {
  if (!sim.ran.includes(name)) sim.ran = [...sim.ran, name];
  sim.lastRun = { ...sim.lastRun, [name]: simIds };
}

/** The simulated device an expected scenario outcome is about: the latest run's sim of that name. */
export function scenarioSim(scenario: ScenarioName, simName: string): SimSnapshot | undefined {
  const latest = sim.lastRun[scenario];
  const named = sim.sims.filter((s) => s.name === simName);
  return (
    named.find((s) => latest?.includes(s.id)) ?? named.filter((s) => s.scenario === scenario).at(-1) ?? named.at(-1)
  );
}

/**
 * An expected outcome is met once the broker has given that sim that reason code (now or before);
 * with `after`, only once it came after a decision with that other reason.
 */
export function outcomeMet(s: SimSnapshot | undefined, reason: string, after?: string): boolean {
  if (!s) return false;
  if (after !== undefined) return sim.seen[s.id]?.includes(afterKey(after, reason)) ?? false;
  return s.lastDecision?.reason === reason || (sim.seen[s.id]?.includes(reason) ?? false);
}

/**
 * When the decision itself has scrolled out of the sim's bounded log (a page opened long after the
 * scenario ran), its counters can still show that such an outcome happened.
 */
export function outcomeInferred(s: SimSnapshot | undefined, reason: string, after?: string): boolean {
  if (!s || s.outcomes === 'client' || after !== undefined) return false; // counters know no order
  if (reason === 'publish.allowed') return s.publishes.accepted > 0;
  if (reason === 'subscribe.granted') return s.subscriptions.granted > 0;
  if (reason === 'connect.accepted') return s.publishes.accepted > 0 || s.subscriptions.granted > 0;
  if (reason.startsWith('topic.')) return s.publishes.denied + s.subscriptions.refused > 0;
  return false;
}

/**
 * After a reload this tab has not watched the scenario sims: outcomes older than their bounded
 * logs are looked up once in the broker's decision feed (one decision of that device and reason).
 */
async function backfillOutcomes(): Promise<void> {
  const asks: { s: SimSnapshot; reason: string; after?: string }[] = [];
  for (const sc of sim.scenarios) {
    for (const ex of sc.expected) {
      const s = scenarioSim(sc.name, ex.simName);
      if (
        s?.scenario === sc.name &&
        !outcomeMet(s, ex.reason, ex.after) &&
        !asks.some((a) => a.s.id === s.id && a.reason === ex.reason && a.after === ex.after)
      )
        asks.push({ s, reason: ex.reason, ...(ex.after !== undefined ? { after: ex.after } : {}) });
    }
  }
  const newest = async (deviceId: string, reason: string) =>
    (await api.call('decisions.list', { deviceId, reason, limit: 1 })).at(-1);
  await Promise.all(
    asks.map(async ({ s, reason, after }) => {
      try {
        const found = await newest(s.deviceId, reason);
        // Ordered: the newest `reason` came after the newest `after` (a later seq).
        const before = after !== undefined && found ? await newest(s.deviceId, after) : undefined;
        const key = after !== undefined ? afterKey(after, reason) : reason;
        const met = found !== undefined && (after === undefined || (before !== undefined && found.seq > before.seq));
        const known = sim.seen[s.id] ?? [];
        if (met && !known.includes(key)) sim.seen = { ...sim.seen, [s.id]: [...known, key] };
      } catch {
        // the row stays unticked; nothing else depends on it
      }
    }),
  );
}
