// Device management: create, list, get, update, delete (docs/design.md §2).
import { newId } from '../core/ids.ts';
import { reservedTagErrors } from '../core/sim-marks.ts';
import { validateDeviceInput, validateTags } from '../core/validation.ts';
import { REPORTING_CLASSES, type ConnectionStatus, type Device, type Tag } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import { notFound, ServiceError, validationError } from '../shared/errors.ts';
import type { ServiceEvents } from './events.ts';
import type { TypedEmitter } from '../shared/typed-emitter.ts';

const DONE: Promise<void> = Promise.resolve();

export class DeviceService {
  constructor(
    private readonly store: Store,
    private readonly events: TypedEmitter<ServiceEvents>,
    private readonly now: () => Date,
  ) {}

  list(): Device[] {
    return this.store.listDevices();
  }

  get(id: string): Device {
    const d = this.store.getDevice(id);
    if (!d) throw notFound('device', id);
    return d;
  }

  private checkGateway(gatewayId: string | undefined): void {
    if (gatewayId === undefined) return;
    const gw = this.store.getDevice(gatewayId);
    if (!gw)
      throw validationError([{ field: 'gatewayId', message: `gatewayId "${gatewayId}" is not an existing device` }]);
    if (!REPORTING_CLASSES.includes(gw.deviceClass))
      throw validationError([
        {
          field: 'gatewayId',
          message: `gatewayId "${gatewayId}" is a ${gw.deviceClass} device, not a gateway or edgeCompute device`,
        },
      ]);
  }

  /**
   * `opts.simulator`: the simulator's own devices may carry reserved `keyport-` tags (its mark and
   * a scenario's tags, core/sim-marks.ts); no contract, CLI or HTTP path passes it.
   */
  async create(input: unknown, opts: { simulator?: boolean } = {}): Promise<Device> {
    const v = validateDeviceInput(input);
    if (!v.ok) throw validationError(v.errors);
    const reserved = opts.simulator ? [] : reservedTagErrors('tags', v.value.tags);
    if (reserved.length) throw validationError(reserved);
    this.checkGateway(v.value.gatewayId);
    const at = this.now().toISOString();
    const device: Device = {
      id: newId(),
      name: v.value.name,
      description: v.value.description ?? '',
      tags: v.value.tags ?? [],
      deviceClass: v.value.deviceClass ?? 'standalone',
      ...(v.value.gatewayId !== undefined ? { gatewayId: v.value.gatewayId } : {}),
      ...(v.value.attributes?.length ? { attributes: v.value.attributes } : {}),
      creationDate: at,
      lastUpdated: at,
      connectionStatus: { status: 'disconnected', messagesFromClient: 0, messagesToClient: 0 },
    };
    await this.store.putDevice(device);
    this.events.emit('device.created', device);
    return device;
  }

  async update(id: string, patch: unknown): Promise<Device> {
    const before = this.get(id);
    const v = validateDeviceInput(patch, true);
    if (!v.ok) throw validationError(v.errors);
    const p = v.value;
    const reserved = reservedTagErrors('tags', p.tags, before.tags);
    if (reserved.length) throw validationError(reserved);
    const deviceClass = p.deviceClass ?? before.deviceClass;
    if (p.gatewayId !== undefined && deviceClass !== 'peripheral') {
      throw validationError([{ field: 'gatewayId', message: 'gatewayId is only for devices of class peripheral' }]);
    }
    this.checkGateway(p.gatewayId);
    const after: Device = {
      ...before,
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.description !== undefined ? { description: p.description } : {}),
      ...(p.tags !== undefined ? { tags: p.tags } : {}),
      ...(p.attributes !== undefined ? { attributes: p.attributes } : {}),
      deviceClass,
      lastUpdated: this.now().toISOString(),
    };
    if (p.gatewayId !== undefined) after.gatewayId = p.gatewayId;
    if (deviceClass !== 'peripheral') delete after.gatewayId;
    await this.store.putDevice(after);
    this.events.emit('device.updated', { before, after });
    return after;
  }

  setTags(id: string, tags: Tag[]): Promise<Device> {
    const errors = validateTags('tags', tags, 1000);
    if (errors.length) return Promise.reject(validationError(errors));
    return this.update(id, { tags });
  }

  /**
   * Live connection bookkeeping from the broker: not a user edit, so lastUpdated stays.
   * Store.putConnectionStatus: only the status is validated and copied, and it is a lazy put
   * (see PutOptions): visible and announced at once, written with the next store write or within
   * LAZY_WRITE_MS (one write for a whole connect burst; all waiters of a window share one promise).
   */
  setConnectionStatus(id: string, status: ConnectionStatus): Promise<unknown> {
    const d = this.store.getDevice(id);
    if (!d) return DONE;
    // Not an async function: the store hands every status of one lazy write the same promise
    // (Store.putConnectionStatus), and it is passed on as it is, so a connect burst costs one.
    const durable = this.store.putConnectionStatus(id, status);
    // putConnectionStatus changes memory synchronously or refuses (rejects) without changing anything.
    const next = this.store.getDevice(id);
    if (next && next !== d) this.events.emit('device.status', next);
    return durable;
  }

  async remove(id: string): Promise<Device> {
    const d = this.get(id);
    const dependants = this.store.listDevices().filter((p) => p.gatewayId === id);
    if (dependants.length) {
      throw new ServiceError(
        'conflict',
        `device ${id} is the gateway of ${dependants.length} peripheral(s) (${dependants[0]?.id}…); change or delete those first`,
      );
    }
    await this.store.deleteDevice(id);
    this.events.emit('device.deleted', d);
    return d;
  }
}
