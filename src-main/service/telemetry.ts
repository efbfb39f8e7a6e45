// Device state and commands (docs/design.md §5): valid state is stored as the device's last state plus a
// bounded recent history; invalid state is reported as state.invalid and not stored.
import { checkAttributes } from '../core/attribute-values.ts';
import { parseState, validateCommand, type Command } from '../core/payloads.ts';
import { allow, deny, type Decision, type Device, type DeviceState } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import { notFound, ServiceError } from '../shared/errors.ts';
import type { ServiceEvents } from './events.ts';
import type { TypedEmitter } from '../shared/typed-emitter.ts';
import type { PlatformPublisher, StateIntake, TelemetryPort } from '../shared/ports.ts';

export const STATE_HISTORY = 500;
export const COMMAND_HISTORY = 100;

/**
 * Appends to a capped list. The list may run up to a quarter over `cap` before it is cut back:
 * cutting on every item moved the whole list once per state report (issue 17), this moves it
 * once per cap/4 reports. Read it through `recent`, which hands out only the last `cap`.
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

/** The `durable` of a report that needs no write (one promise for all of them). */
const NOTHING_TO_WRITE: Promise<void> = Promise.resolve();

export class Telemetry implements TelemetryPort {
  readonly #history = new Map<string, DeviceState[]>();
  readonly #commands = new Map<string, Command[]>();
  #publisher: PlatformPublisher | null = null;

  constructor(
    private readonly store: Store,
    private readonly events: TypedEmitter<ServiceEvents>,
    private readonly now: () => Date,
  ) {}

  setPublisher(p: PlatformPublisher | null): void {
    this.#publisher = p;
  }

  /**
   * Store a state report for a device (the HTTP state endpoint): resolves once it is on disk with
   * state.stored, or state.invalid with the reason. MQTT reports use acceptReport.
   */
  async recordState(deviceId: string, payload: Buffer | string): Promise<Decision> {
    const step = this.#prepare(deviceId, payload);
    if (!step.lastState || !step.device) return step.decision;
    const next: Device = { ...step.device, lastState: step.lastState };
    await this.store.putDevice(next);
    this.events.emit('device.state', { deviceId, state: step.state as DeviceState });
    this.events.emit('device.status', this.store.getDevice(deviceId) ?? next);
    return step.decision;
  }

  /**
   * An MQTT state report, stored the moment it is authorised, before its PUBACK and independent of
   * its delivery: in memory at once (Store.putLastState), and on disk with the next store write
   * (a lazy put, within LAZY_WRITE_MS, see PutOptions) or at flush()/close(), so a clean shutdown
   * writes every report that was acknowledged. Synchronous, so the broker answers only after it.
   * `stored` is false when the store refused it (closed): then the report must not be acknowledged.
   * `durable` resolves when the report is on disk (rejects if that write failed); it is the
   * store's shared promise for the next write, the same object for every report until that write
   * starts, so a caller watching it need attach one handler per write, not one per report.
   */
  acceptReport(deviceId: string, payload: Buffer | string): StateIntake {
    const step = this.#prepare(deviceId, payload);
    if (!step.lastState) return { decision: step.decision, stored: step.decision.allowed, durable: NOTHING_TO_WRITE };
    let durable: Promise<void> | false;
    try {
      durable = this.store.putLastState(deviceId, step.lastState);
    } catch (err) {
      // Closed, or a state unfit to store: nothing changed.
      return { decision: step.decision, stored: false, durable: Promise.reject(err as Error) };
    }
    if (durable === false) return { decision: step.decision, stored: false, durable: NOTHING_TO_WRITE };
    this.events.emit('device.state', { deviceId, state: step.state as DeviceState });
    this.events.emit('device.status', this.store.getDevice(deviceId) as Device);
    return { decision: step.decision, stored: true, durable };
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
    push(this.#history, deviceId, state, STATE_HISTORY);
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

  recordCommand(deviceId: string, command: Command): void {
    push(this.#commands, deviceId, command, COMMAND_HISTORY);
    this.events.emit('device.command', { deviceId, command });
  }

  history(deviceId: string): DeviceState[] {
    return recent(this.#history.get(deviceId), STATE_HISTORY);
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
