// Device state and commands (docs/design.md §5): valid state is stored as the device's last state plus a
// bounded recent history; invalid state is reported as state.invalid and not stored.
import { parseState, validateCommand, type Command } from '../core/payloads.ts';
import { allow, deny, type Decision, type DeviceState } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import { notFound, ServiceError } from '../shared/errors.ts';
import type { ServiceEvents } from './events.ts';
import type { TypedEmitter } from '../shared/typed-emitter.ts';

export const STATE_HISTORY = 500;
export const COMMAND_HISTORY = 100;

/** Publishes a message as the platform (set by the broker once it runs). */
export type PlatformPublisher = (topic: string, payload: string) => Promise<void>;

function push<T>(map: Map<string, T[]>, id: string, item: T, cap: number): void {
  let list = map.get(id);
  if (!list) map.set(id, (list = []));
  list.push(item);
  if (list.length > cap) list.splice(0, list.length - cap);
}

export class Telemetry {
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
   * Store a state report for a device. Returns state.stored or state.invalid with the reason.
   * `lazy` (MQTT reports, which nobody waits on: the PUBACK does not wait for the disk): a lazy
   * store put (see PutOptions), announced at once and written with the next store write, so a
   * fleet reporting state does not rewrite the whole store file once per report. The HTTP state
   * endpoint answers "stored", so it does not pass it.
   */
  async recordState(deviceId: string, payload: Buffer | string, options: { lazy?: boolean } = {}): Promise<Decision> {
    const device = this.store.getDevice(deviceId);
    if (!device) return deny('device.unknown', `no device ${deviceId}`);
    const parsed = parseState(payload, this.now());
    if (!parsed.ok) return deny('state.invalid', parsed.error);
    const state = parsed.state;
    push(this.#history, deviceId, state, STATE_HISTORY);
    // A late report (older than what is stored) goes to the history but does not move the
    // device's last state back in time.
    if (device.lastState && state.time < device.lastState.time) {
      this.events.emit('device.state', { deviceId, state });
      return allow(
        'state.stored',
        `${Object.keys(state.data).length} attribute(s) kept in history (older than the last state)`,
      );
    }
    const lastState: DeviceState = { time: state.time, data: { ...device.lastState?.data, ...state.data } };
    const next = { ...device, lastState };
    if (options.lazy) {
      const durable = this.store.putDevice(next, { lazy: true });
      // putDevice changes memory synchronously or refuses (rejects) without changing anything.
      if (this.store.getDevice(deviceId) !== device) {
        this.events.emit('device.state', { deviceId, state });
        this.events.emit('device.status', next);
      }
      await durable;
    } else {
      await this.store.putDevice(next);
      this.events.emit('device.state', { deviceId, state });
      this.events.emit('device.status', next);
    }
    return allow('state.stored', `${Object.keys(state.data).length} attribute(s) stored`);
  }

  recordCommand(deviceId: string, command: Command): void {
    push(this.#commands, deviceId, command, COMMAND_HISTORY);
    this.events.emit('device.command', { deviceId, command });
  }

  history(deviceId: string): DeviceState[] {
    return [...(this.#history.get(deviceId) ?? [])];
  }

  commands(deviceId: string): Command[] {
    return [...(this.#commands.get(deviceId) ?? [])];
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

  forget(deviceId: string): void {
    this.#history.delete(deviceId);
    this.#commands.delete(deviceId);
  }
}
