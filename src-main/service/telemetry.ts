// Device state and commands (docs/design.md §5): valid state is stored as the device's last state plus a
// bounded recent history; invalid state is reported as state.invalid and not stored.
import { checkAttributes } from '../core/attribute-values.ts';
import { parseState, validateCommand, type Command } from '../core/payloads.ts';
import { allow, deny, type Decision, type Device, type DeviceState, type StateValue } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import { notFound, ServiceError } from '../shared/errors.ts';
import type { ServiceEvents } from './events.ts';
import type { TypedEmitter } from '../shared/typed-emitter.ts';
import type { PlatformPublisher, StateIntake, TelemetryPort } from '../shared/ports.ts';
import { StateHistory } from './state-history.ts';

export const STATE_HISTORY = 500;
export const COMMAND_HISTORY = 100;

/**
 * Appends to a capped list (a device's commands; its state reports are a StateHistory). The list
 * may run up to a quarter over `cap` before it is cut back: cutting on every item moved the whole
 * list once per item (issue 17), this moves it once per cap/4 items. Read it through `recent`,
 * which hands out only the last `cap`.
 */
function push<T>(map: Map<string, T[]>, id: string, item: T, cap: number): void {
  let list = map.get(id);
  if (!list) map.set(id, (list = []));
  list.push(item);
  if (list.length > cap + (cap >> 2)) list.splice(0, list.length - cap);
}

/** The last `cap` items of a list `push` keeps, as a copy. */
function recent<T>(list: readonly T[] | undefined, cap: number): T[] {
  return list ? list.slice(Math.max(0, list.length - cap)) : [];
}

/** A parsed report: with `lastState` (the device's merged new last state) when that changes. */
interface Prepared {
  decision: Decision;
  state?: DeviceState;
  lastState?: DeviceState;
  device?: Device;
}

/** A device's reports of this turn after its first: the merged data, stored at the turn's end. */
interface Merging {
  time: string;
  data: Record<string, StateValue>;
  merged: number;
}

/** `state.stored` for `count` attributes: one object per count (every MQTT report has one). */
const STORED: Decision[] = [];
function storedDecision(count: number): Decision {
  if (count >= 64) return allow('state.stored', `${count} attribute(s) stored`);
  return (STORED[count] ??= Object.freeze(allow('state.stored', `${count} attribute(s) stored`)) as Decision);
}

/** The `durable` of a report that needs no write (one promise for all of them). */
const NOTHING_TO_WRITE: Promise<void> = Promise.resolve();

/** A report that is not stored (unknown device, invalid state): nothing to write. */
const refused = (decision: Decision): StateIntake => ({ decision, stored: false, durable: NOTHING_TO_WRITE });

export class Telemetry implements TelemetryPort {
  readonly #history = new Map<string, StateHistory>();
  readonly #commands = new Map<string, Command[]>();
  #publisher: PlatformPublisher | null = null;

  /** The clock's epoch milliseconds, read for every MQTT report (no Date per report). */
  readonly #nowMs: () => number;

  /** `nowMs`: the same clock as `now`, in milliseconds (default: now().getTime()). */
  constructor(
    private readonly store: Store,
    private readonly events: TypedEmitter<ServiceEvents>,
    private readonly now: () => Date,
    nowMs?: () => number,
  ) {
    this.#nowMs = nowMs ?? (() => now().getTime());
  }

  setPublisher(p: PlatformPublisher | null): void {
    this.#publisher = p;
  }

  /**
   * Store a state report for a device (the HTTP state endpoint): resolves once it is on disk with
   * state.stored, or state.invalid with the reason. MQTT reports use acceptReport.
   */
  async recordState(deviceId: string, payload: Buffer | string): Promise<Decision> {
    this.#endTurn();
    const step = this.#prepare(deviceId, payload);
    if (!step.lastState || !step.device) return step.decision;
    const next: Device = { ...step.device, lastState: step.lastState };
    await this.store.putDevice(next);
    this.events.emit('device.state', { deviceId, state: step.state as DeviceState });
    this.events.emit('device.status', this.store.getDevice(deviceId) ?? next);
    return step.decision;
  }

  /**
   * An MQTT state report, taken the moment it is authorised, before its PUBACK and independent of
   * its delivery. The first report of a device in a turn of the event loop is stored at once
   * (Store.putLastState); the device's further reports of the same turn (aedes handles every
   * PUBLISH of one socket read in one turn) are merged in memory and stored together when the
   * turn's code is done (process.nextTick, which runs before the PUBACKs of that turn leave: they
   * are written on a later tick). So a burst costs two store puts per device and read, not one per
   * report; the stored last state is the last valid report's, merged over the earlier ones, as if
   * each had been stored (issue 17). On disk with the next store write (a lazy put, within
   * LAZY_WRITE_MS, see PutOptions) or at flush()/close(), so a clean shutdown writes every report
   * that was acknowledged. Synchronous, so the broker answers only after it.
   * `stored` is false when the store refused it (closed): then the report must not be acknowledged.
   * `durable` resolves when the report is on disk (rejects if that write failed); the same object
   * for every report of a write window (first reports) or of a turn (merged ones), so a caller
   * watching it attaches one handler per window, not one per report.
   */
  acceptReport(deviceId: string, payload: Buffer | string): StateIntake {
    // Checked here, not in a helper returning a result object (one more object per report).
    const device = this.store.getDevice(deviceId);
    if (!device) return refused(deny('device.unknown', `no device ${deviceId}`));
    const parsed = parseState(payload, this.#nowMs());
    if (!parsed.ok) return refused(deny('state.invalid', parsed.error));
    const state = parsed.state;
    const undeclared = checkAttributes(device.attributes, state.data);
    if (undeclared) return refused(deny('state.invalid', undeclared));
    const merging = this.#turn.get(deviceId);
    let count = 0;
    for (const _ in state.data) count++;
    // A late report (older than the last state, stored or being merged) goes to the history but
    // does not move the device's last state back in time.
    const lastTime = merging ? merging.time : device.lastState?.time;
    if (lastTime !== undefined && state.time < lastTime) {
      this.#keep(deviceId, state.time, payload);
      this.#emitState(deviceId, state);
      return {
        decision: allow('state.stored', `${count} attribute(s) kept in history (older than the last state)`),
        stored: true,
        durable: NOTHING_TO_WRITE,
      };
    }
    const decision = storedDecision(count);
    if (merging) {
      for (const k in state.data) merging.data[k] = state.data[k] as StateValue;
      merging.time = state.time;
      merging.merged++;
      this.#keep(deviceId, state.time, payload);
      this.#emitState(deviceId, state);
      return this.#mergedIntake(decision);
    }
    const lastState: DeviceState = { time: state.time, data: { ...device.lastState?.data, ...state.data } };
    let durable: Promise<void> | false;
    try {
      durable = this.store.putLastState(deviceId, lastState);
    } catch (err) {
      // Closed, or a state unfit to store: nothing changed.
      return { decision, stored: false, durable: Promise.reject(err as Error) };
    }
    if (durable === false) return { decision, stored: false, durable: NOTHING_TO_WRITE };
    this.#keep(deviceId, state.time, payload);
    if (this.#turn.size === 0) process.nextTick(this.#endTurn);
    this.#turn.set(deviceId, { time: state.time, data: {}, merged: 0 });
    this.#emitState(deviceId, state);
    this.events.emit('device.status', this.store.getDevice(deviceId) as Device);
    return { decision, stored: true, durable };
  }

  /** device.state for an MQTT report: its payload object is made only when someone listens. */
  #emitState(deviceId: string, state: DeviceState): void {
    if (this.events.listenerCount('device.state') > 0) this.events.emit('device.state', { deviceId, state });
  }

  /** Reports of this turn after each device's first: merged, stored when the turn ends. */
  readonly #turn = new Map<string, Merging>();
  #turnWaiter: { promise: Promise<void>; settle: (p: Promise<void>) => void } | null = null;

  /**
   * What a merged report is answered: one frozen object for the turn's reports of one decision
   * (most reports of a turn have as many attributes as the one before), not one per report.
   */
  #mergedIntake(decision: Decision): StateIntake {
    const durable = this.#turnDurable();
    const last = this.#lastMerged;
    if (last !== null && last.decision === decision && last.durable === durable) return last;
    return (this.#lastMerged = Object.freeze({ decision, stored: true, durable }));
  }

  #lastMerged: StateIntake | null = null;

  /** The promise of this turn's merged reports: settled by #endTurn with the store's own. */
  #turnDurable(): Promise<void> {
    if (!this.#turnWaiter) {
      let settle!: (p: Promise<void>) => void;
      const promise = new Promise<void>((resolve) => (settle = resolve));
      this.#turnWaiter = { promise, settle };
    }
    return this.#turnWaiter.promise;
  }

  /**
   * Stores what this turn merged (one put per device). Runs on process.nextTick, and first
   * thing in recordState, so an HTTP report merges over every MQTT report before it.
   */
  readonly #endTurn = (): void => {
    if (this.#turn.size === 0) return;
    const turn = [...this.#turn];
    this.#turn.clear();
    const waiter = this.#turnWaiter;
    this.#turnWaiter = null;
    this.#lastMerged = null;
    let durable: Promise<void> = NOTHING_TO_WRITE;
    let failed: Error | null = null;
    for (const [deviceId, m] of turn) {
      if (m.merged === 0) continue;
      const device = this.store.getDevice(deviceId);
      if (!device) continue; // deleted meanwhile: its reports go with it
      const lastState: DeviceState = { time: m.time, data: { ...device.lastState?.data, ...m.data } };
      try {
        const d = this.store.putLastState(deviceId, lastState);
        if (d) durable = d;
      } catch (err) {
        failed = err as Error;
        continue;
      }
      this.events.emit('device.status', this.store.getDevice(deviceId) as Device);
    }
    waiter?.settle(failed ? Promise.reject(failed) : durable);
  };

  /** Stores at once what this turn's MQTT reports merged so far (they are stored by nextTick anyway). */
  flushReports(): void {
    this.#endTurn();
  }

  /** Parses a report and works out the device's next last state; `lastState` absent: nothing to put. */
  #prepare(deviceId: string, payload: Buffer | string): Prepared {
    const device = this.store.getDevice(deviceId);
    if (!device) return { decision: deny('device.unknown', `no device ${deviceId}`) };
    const parsed = parseState(payload, this.now());
    if (!parsed.ok) return { decision: deny('state.invalid', parsed.error) };
    const state = parsed.state;
    const undeclared = checkAttributes(device.attributes, state.data);
    if (undeclared) return { decision: deny('state.invalid', undeclared) };
    this.#keep(deviceId, state.time, payload);
    const count = Object.keys(state.data).length;
    // A late report (older than what is stored) goes to the history but does not move the
    // device's last state back in time.
    if (device.lastState && state.time < device.lastState.time) {
      this.events.emit('device.state', { deviceId, state });
      return {
        decision: allow('state.stored', `${count} attribute(s) kept in history (older than the last state)`),
        state,
      };
    }
    const lastState: DeviceState = { time: state.time, data: { ...device.lastState?.data, ...state.data } };
    return { decision: allow('state.stored', `${count} attribute(s) stored`), state, lastState, device };
  }

  /** Adds a valid report to the device's history (its payload's bytes, parsed again when read). */
  #keep(deviceId: string, time: string, payload: Buffer | string): void {
    let h = this.#history.get(deviceId);
    if (!h) this.#history.set(deviceId, (h = new StateHistory(STATE_HISTORY)));
    h.push(time, payload);
  }

  recordCommand(deviceId: string, command: Command): void {
    push(this.#commands, deviceId, command, COMMAND_HISTORY);
    this.events.emit('device.command', { deviceId, command });
  }

  history(deviceId: string): DeviceState[] {
    return this.#history.get(deviceId)?.list() ?? [];
  }

  commands(deviceId: string): Command[] {
    return recent(this.#commands.get(deviceId), COMMAND_HISTORY);
  }

  /** Send a command to a device as the platform, on losant/{id}/command. */
  async sendCommand(deviceId: string, input: unknown): Promise<Command> {
    if (!this.store.getDevice(deviceId)) throw notFound('device', deviceId);
    const v = validateCommand(input, this.now());
    if (!v.ok) throw new ServiceError('validation', v.error, [{ field: 'command', message: v.error }]);
    if (!this.#publisher)
      throw new ServiceError('unavailable', 'the broker is not running, so commands cannot be sent');
    const { name, payload, time } = v.command;
    await this.#publisher(`losant/${deviceId}/command`, JSON.stringify({ name, payload, time: { $date: time } }));
    return v.command;
  }
}
