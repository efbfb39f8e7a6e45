// Fleets (docs/design.md §7): N devices, each with its OWN single-device key (per-device credentials, never a
// shared password), created in one step, connected in waves, started/stopped/removed together.
// Progress goes out as `fleet` events: created n/N while creating, connected n/N while connecting.
import type { FleetRequest } from '../contract.ts';
import { fleetDeviceName } from '../core/fleet-names.ts';
import { newId } from '../core/ids.ts';
import { fleetMark, reservedTagErrors } from '../core/sim-marks.ts';
import { ServiceError, validationError } from '../shared/errors.ts';
import { parseBehaviour } from '../core/behaviour-rules.ts';
import { declaredAttributes } from './generators.ts';
import type { SimulatedDevice } from './simulated-device.ts';
import type { SimulatorBackend } from './simulator-backend.ts';
import { keyedThrottle } from '../shared/keyed-throttle.ts';
import type { FleetSummary, SimBehaviour, SimConfig, SimTransport } from './types.ts';

export const MAX_FLEET = 2000;
const CREATE_CHUNK = 100;

interface FleetState {
  id: string;
  name: string;
  size: number;
  created: number;
  phase: FleetSummary['phase'];
  sims: SimulatedDevice[];
  deviceIds: string[];
  keyIds: string[];
}

/** Resolves once the simulation has an outcome for its connection attempt (or after `ms`). */
export function settled(sim: SimulatedDevice, ms = 15_000): Promise<void> {
  const done = () => !sim.running || (sim.status !== 'connecting' && sim.status !== 'idle');
  if (done()) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      off();
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    timer.unref();
    const off = sim.events.on('changed', () => {
      if (done()) finish();
    });
  });
}

/**
 * What fleets need from the Simulator that owns them (declared here, so that fleets.ts does not
 * import simulator.ts, which imports fleets.ts).
 */
export interface FleetHost {
  readonly service: Pick<SimulatorBackend, 'devices' | 'keys'>;
  readonly events: {
    on(event: 'changed', listener: (e: { id: string }) => void): () => void;
    emit(event: 'fleet', payload: FleetSummary): void;
    emit(event: 'removed', payload: { id: string }): void;
  };
  find(id: string): SimulatedDevice | undefined;
  create(config: SimConfig, extras: { fleetId: string; keyId: string; start: boolean }): SimulatedDevice;
  remove(id: string, fromFleet: boolean, cleanup?: boolean): Promise<unknown>;
}

export class Fleets {
  readonly #fleets = new Map<string, FleetState>();
  readonly #throttle = keyedThrottle(500, (id) => this.#emit(id));
  readonly #off: () => void;

  constructor(
    private readonly sim: FleetHost,
    private readonly concurrency: number,
  ) {
    // Member changes (connected, refused, ...) update the fleet's summary, at most twice a second.
    this.#off = sim.events.on('changed', ({ id }) => {
      const fleetId = sim.find(id)?.fleetId;
      if (fleetId !== undefined && this.#fleets.has(fleetId)) this.#throttle.push(fleetId);
    });
  }

  summaries(): FleetSummary[] {
    return [...this.#fleets.values()].map((f) => this.#summary(f));
  }

  summary(id: string): FleetSummary {
    return this.#summary(this.#get(id));
  }

  #get(id: string): FleetState {
    const f = this.#fleets.get(id);
    if (!f) throw new ServiceError('not-found', `no fleet with id "${id}"`);
    return f;
  }

  #summary(f: FleetState): FleetSummary {
    const byReason: Record<string, number> = {};
    let connected = 0;
    for (const s of f.sims) {
      if (s.connected) connected++;
      const r = s.connectionReason;
      if (r !== undefined) byReason[r] = (byReason[r] ?? 0) + 1;
    }
    return { id: f.id, name: f.name, size: f.size, created: f.created, connected, byReason, phase: f.phase };
  }

  #emit(id: string): void {
    const f = this.#fleets.get(id);
    if (f) this.sim.events.emit('fleet', this.#summary(f));
  }

  /** Creates the devices and their keys, then connects them; resolves when every one has an outcome. */
  async create(req: FleetRequest): Promise<FleetSummary> {
    const count = req.count;
    if (!Number.isInteger(count) || count < 1 || count > MAX_FLEET)
      throw validationError([{ field: 'count', message: `count must be a whole number from 1 to ${MAX_FLEET}` }]);
    const v = parseBehaviour(req.behaviour, 'behaviour');
    if (!v.ok) throw validationError(v.errors);
    const reserved = reservedTagErrors('tags', req.tags);
    if (reserved.length) throw validationError(reserved);
    const behaviour: SimBehaviour = v.value;
    const transport: SimTransport = req.transport ?? 'tcp';
    const prefix = req.namePrefix ?? 'Fleet device';
    const f: FleetState = {
      id: newId(),
      name: `${prefix} ×${count}`,
      size: count,
      created: 0,
      phase: 'creating',
      sims: [],
      deviceIds: [],
      keyIds: [],
    };
    this.#fleets.set(f.id, f);
    this.#emit(f.id);
    const { devices, keys } = this.sim.service;
    const attributes = declaredAttributes(req.behaviour);
    try {
      for (let i = 0; i < count; i += CREATE_CHUNK) {
        const batch = Array.from({ length: Math.min(CREATE_CHUNK, count - i) }, (_, j) => i + j + 1);
        // In parallel within a chunk: the store coalesces the writes of one chunk into a few.
        const made = await Promise.all(
          batch.map(async (n) => {
            const name = fleetDeviceName(prefix, n, count);
            const device = await devices.create(
              {
                name,
                tags: [fleetMark(f.id), ...(req.tags ?? [])],
                ...(attributes?.length ? { attributes } : {}),
              },
              { simulator: true },
            );
            f.deviceIds.push(device.id);
            const key = await keys.create({
              deviceIds: [device.id],
              name: `Simulator: ${name}`.slice(0, 255),
              createdVia: 'simulator',
            });
            f.keyIds.push(key.accessKey.id);
            return { device, key };
          }),
        );
        for (const { device, key } of made) {
          const config = {
            deviceId: device.id,
            name: device.name,
            credentials: { key: key.accessKey.key, secret: key.secret },
            behaviour,
            transport,
          };
          f.sims.push(this.sim.create(config, { fleetId: f.id, keyId: key.accessKey.id, start: false }));
        }
        f.created += batch.length;
        this.#emit(f.id);
      }
    } catch (err) {
      await this.remove(f.id).catch(() => {});
      throw err;
    }
    await this.#connectAll(f);
    return this.#summary(f);
  }

  async #connectAll(f: FleetState): Promise<void> {
    f.phase = 'connecting';
    this.#emit(f.id);
    for (let i = 0; i < f.sims.length; i += this.concurrency) {
      if (f.phase !== 'connecting') return; // stopped or removed meanwhile
      const wave = f.sims.slice(i, i + this.concurrency);
      await Promise.all(
        wave.map((s) => {
          s.start();
          return settled(s);
        }),
      );
      this.#emit(f.id);
    }
    f.phase = 'running';
    this.#emit(f.id);
  }

  async start(id: string): Promise<FleetSummary> {
    const f = this.#get(id);
    if (f.phase !== 'connecting' && f.phase !== 'creating') await this.#connectAll(f);
    return this.#summary(f);
  }

  async stop(id: string): Promise<FleetSummary> {
    const f = this.#get(id);
    f.phase = 'stopped';
    await Promise.all(f.sims.map((s) => s.stop()));
    this.#emit(f.id);
    return this.#summary(f);
  }

  /** Removes the simulations AND the devices and keys made for the fleet (their secrets are gone with them). */
  async remove(id: string): Promise<{ id: string }> {
    const f = this.#get(id);
    f.phase = 'stopped';
    await Promise.all(f.sims.map((s) => this.sim.remove(s.id, true, false).catch(() => {})));
    const { devices, keys } = this.sim.service;
    for (let i = 0; i < f.keyIds.length; i += CREATE_CHUNK) {
      await Promise.all(f.keyIds.slice(i, i + CREATE_CHUNK).map((k) => keys.remove(k).catch(() => {})));
    }
    for (let i = 0; i < f.deviceIds.length; i += CREATE_CHUNK) {
      await Promise.all(f.deviceIds.slice(i, i + CREATE_CHUNK).map((d) => devices.remove(d).catch(() => {})));
    }
    this.#fleets.delete(id);
    this.sim.events.emit('removed', { id });
    return { id };
  }

  close(): void {
    for (const f of this.#fleets.values()) if (f.phase !== 'stopped') f.phase = 'stopped';
    this.#throttle.cancel();
    this.#off();
  }
}
