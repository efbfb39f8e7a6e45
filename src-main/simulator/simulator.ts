// The simulator the service exposes (docs/design.md §7): simulated devices of this Keyport's broker (or of
// another broker, by URL), their credentials (generated single-device keys whose secret stays in
// memory, pasted, or read from a saved secrets file), fleets and demo scenarios. Outcomes come
// from the decision feed when the broker runs in this process (outcomes.ts).
import type { ListenerInfo, SimAddRequest } from '../contract.ts';
import { parseSecrets } from '../core/export-formats.ts';
import { newId } from '../core/ids.ts';
import { ServiceError, validationError } from '../shared/errors.ts';
import { TypedEmitter } from '../shared/typed-emitter.ts';
import type { BackoffOptions } from './backoff.ts';
import { deleteMade, MadeRecords, ownedBy, scenarioLeftovers, type Removed } from './cleanup.ts';
import { SavedCredentials, type CredentialVault } from './credential-store.ts';
import { Fleets } from './fleets.ts';
import { parseBehaviour } from '../core/behaviour-rules.ts';
import { attachDecisionFeed, attachScopeWatch } from './outcomes.ts';
import { SimulatedDevice } from './simulated-device.ts';
import type { LimitsView, SimulatorBackend } from './simulator-backend.ts';
import type { FleetSummary, SimConfig, SimSnapshot, SimStatus } from './types.ts';

export interface SimulatorOptions {
  service: SimulatorBackend;
  dataDir: string;
  /** This Keyport's listeners (null until they listen). */
  listeners: () => ListenerInfo | null;
  /** Electron safeStorage in the desktop app; absent headless (saving credentials is then refused). */
  vault?: CredentialVault;
  backoff?: BackoffOptions;
  connectTimeoutMs?: number;
  /** Connections opened at once when a fleet starts (default 100). */
  fleetConcurrency?: number;
  /** Pause between the stages of a demo scenario, so a person can watch each (default 2000 ms). */
  scenarioStepMs?: number;
  /** Losant limits mode of this Keyport's broker (the "Rate limit" scenario needs it on). */
  limits?: LimitsView;
  log?: (line: string) => void;
}

export interface SimulatorEvents {
  changed: { id: string };
  removed: { id: string };
  fleet: FleetSummary;
}

/** Extra bookkeeping for simulations made by fleets and scenarios. */
export interface CreateExtras {
  keyId?: string;
  fleetId?: string;
  scenario?: string;
  start?: boolean;
  status?: SimStatus;
}

export type AddRequest = SimAddRequest & { url?: string };

/** This Keyport's listener URL for a transport (a wildcard host is reached on loopback). */
export function brokerUrl(l: ListenerInfo, transport: SimConfig['transport']): string {
  const host = l.host === '0.0.0.0' || l.host === '' ? '127.0.0.1' : l.host === '::' ? '::1' : l.host;
  const h = host.includes(':') ? `[${host}]` : host;
  return transport === 'ws' ? `ws://${h}:${l.ws}/mqtt` : `mqtt://${h}:${l.mqtt}`;
}

export class Simulator {
  readonly events = new TypedEmitter<SimulatorEvents>();
  readonly service: SimulatorBackend;
  readonly fleets: Fleets;
  readonly scenarioStepMs: number;
  /** Undefined when no broker runs next to the simulator. */
  readonly limits: LimitsView | undefined;
  readonly #opts: SimulatorOptions;
  readonly #sims = new Map<string, SimulatedDevice>();
  readonly #byDevice = new Map<string, Set<SimulatedDevice>>();
  readonly #saved: SavedCredentials;
  readonly #made = new MadeRecords();
  readonly #detach: (() => void)[];
  #closed = false;

  constructor(opts: SimulatorOptions) {
    this.#opts = opts;
    this.service = opts.service;
    this.scenarioStepMs = opts.scenarioStepMs ?? 2000;
    this.limits = opts.limits;
    this.#saved = new SavedCredentials(opts.dataDir, opts.vault);
    this.fleets = new Fleets(this, opts.fleetConcurrency ?? 100);
    const targets = (deviceId: string) => this.#byDevice.get(deviceId) ?? [];
    this.#detach = [
      attachDecisionFeed(opts.service.feed.events, (deviceId) => this.#byDevice.get(deviceId)),
      attachScopeWatch(opts.service.events, targets),
    ];
  }

  /** True once close() began (staged scenarios stop then). */
  get closed(): boolean {
    return this.#closed;
  }

  // ---- single simulations ----------------------------------------------------------------------

  list(): { sims: SimSnapshot[]; fleets: FleetSummary[] } {
    // Fleet members carry a short log here: 500 full logs would make one call megabytes.
    const sims = [...this.#sims.values()].map((s) => s.snapshot(s.fleetId ? 5 : undefined));
    return { sims, fleets: this.fleets.summaries() };
  }

  get(id: string): SimulatedDevice {
    const s = this.#sims.get(id);
    if (!s) throw new ServiceError('not-found', `no simulation with id "${id}"`);
    return s;
  }

  find(id: string): SimulatedDevice | undefined {
    return this.#sims.get(id);
  }

  all(): SimulatedDevice[] {
    return [...this.#sims.values()];
  }

  /** A simulated device for an existing device, with generated, pasted or file credentials. */
  async add(req: AddRequest, extras: CreateExtras = {}): Promise<SimSnapshot> {
    const device = this.service.devices.get(req.deviceId);
    this.#target(req.url); // before a key is made for nothing
    const v = parseBehaviour(req.behaviour, 'behaviour');
    if (!v.ok) throw validationError(v.errors);
    const name = req.name ?? device.name;
    let credentials: { key: string; secret: string };
    let keyId = extras.keyId;
    const c = req.credentials;
    if (c.mode === 'generate') {
      const created = await this.service.keys.create({
        deviceIds: [device.id],
        name: `Simulator: ${name}`.slice(0, 255),
        createdVia: 'simulator',
      });
      credentials = { key: created.accessKey.key, secret: created.secret };
      keyId = created.accessKey.id;
    } else if (c.mode === 'paste') {
      credentials = { key: c.key.trim(), secret: c.secret.trim() };
    } else {
      let parsed: ReturnType<typeof parseSecrets>;
      try {
        parsed = parseSecrets(c.content);
      } catch (err) {
        throw validationError([
          { field: 'credentials.content', message: `credentials.content: ${(err as Error).message}` },
        ]);
      }
      if (parsed.deviceId !== undefined && parsed.deviceId !== device.id) {
        throw validationError([
          {
            field: 'credentials.content',
            message: `credentials.content: the secrets file is for device ${parsed.deviceId}, not ${device.id}`,
          },
        ]);
      }
      credentials = { key: parsed.key, secret: parsed.secret };
    }
    keyId ??= this.service.store.getKeyByKey(credentials.key)?.id;
    const config: SimConfig = {
      deviceId: device.id,
      name,
      credentials,
      behaviour: v.value,
      transport: req.transport,
      ...(req.url !== undefined ? { url: req.url } : {}),
      ...(req.sourceAddress !== undefined ? { sourceAddress: req.sourceAddress } : {}),
    };
    const sim = this.create(config, {
      ...extras,
      ...(keyId !== undefined ? { keyId } : {}),
      start: req.start ?? extras.start ?? true,
    });
    return sim.snapshot();
  }

  /** Makes (and by default starts) a simulation from a full config. */
  /** Where a simulation connects: the URL it was given, or this Keyport's listener. */
  #target(url: string | undefined, transport: SimConfig['transport'] = 'tcp'): string {
    if (this.#closed) throw new ServiceError('unavailable', 'the simulator is shut down');
    if (url !== undefined) return url;
    const listeners = this.#opts.listeners();
    if (!listeners)
      throw new ServiceError(
        'unavailable',
        'the broker is not listening yet, so a simulated device has nowhere to connect',
      );
    return brokerUrl(listeners, transport);
  }

  create(config: SimConfig, extras: CreateExtras = {}, id: string = newId()): SimulatedDevice {
    const sim = new SimulatedDevice({
      id,
      config,
      url: this.#target(config.url, config.transport),
      outcomes: config.url === undefined ? 'broker' : 'client',
      ...(extras.keyId !== undefined ? { keyId: extras.keyId } : {}),
      ...(extras.fleetId !== undefined ? { fleetId: extras.fleetId } : {}),
      ...(extras.scenario !== undefined ? { scenario: extras.scenario } : {}),
      ...(this.#opts.backoff ? { backoff: this.#opts.backoff } : {}),
      ...(this.#opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.#opts.connectTimeoutMs } : {}),
      ...(extras.status ? { status: extras.status } : {}),
    });
    this.#sims.set(sim.id, sim);
    let set = this.#byDevice.get(config.deviceId);
    if (!set) this.#byDevice.set(config.deviceId, (set = new Set()));
    set.add(sim);
    sim.events.on('changed', (e) => this.events.emit('changed', e));
    if (extras.start !== false) sim.start();
    this.events.emit('changed', { id: sim.id });
    return sim;
  }

  start(id: string): SimSnapshot {
    const sim = this.get(id);
    sim.start();
    return sim.snapshot();
  }

  async stop(id: string): Promise<SimSnapshot> {
    const sim = this.get(id);
    await sim.stop();
    return sim.snapshot();
  }

  report(id: string): SimSnapshot {
    const sim = this.get(id);
    if (!sim.reportNow())
      throw new ServiceError('conflict', `simulation ${id} is not connected (status ${sim.status}); start it first`);
    return sim.snapshot();
  }

  /** Publishes one message as this simulation's device, through its connection and key. */
  publish(id: string, topic: string, payload: string, qos: 0 | 1, retain: boolean): SimSnapshot {
    const sim = this.get(id);
    if (!sim.publishOnce(topic, payload, qos, retain))
      throw new ServiceError('conflict', `simulation ${id} is not connected (status ${sim.status}); start it first`);
    return sim.snapshot();
  }

  /**
   * Stops and forgets a simulation. With `cleanup` (the default; fleets and Clear do their own) it
   * also deletes what was made for it alone (cleanup.ts): its single-device simulator key, and its
   * device when a scenario made it.
   */
  async remove(id: string, fromFleet = false, cleanup = true): Promise<{ id: string }> {
    const sim = this.get(id);
    if (sim.fleetId !== undefined && !fromFleet)
      throw new ServiceError('conflict', `simulation ${id} belongs to fleet ${sim.fleetId}: remove the fleet instead`);
    await sim.stop('removed');
    this.#sims.delete(id);
    const set = this.#byDevice.get(sim.deviceId);
    set?.delete(sim);
    if (set?.size === 0) this.#byDevice.delete(sim.deviceId);
    if (this.#saved.has(id)) await this.#saved.remove(id);
    this.events.emit('removed', { id });
    if (cleanup) await deleteMade(this.service, ownedBy(sim, this.all(), this.service.store));
    return { id };
  }

  // ---- scenarios -------------------------------------------------------------------------------

  /** Scenarios report each device and key they make, for Clear. */
  recordMade(scenario: string, r: { deviceId?: string; keyId?: string }): void {
    this.#made.record(scenario, r);
  }

  /** A scenario's Clear: its simulations, and every device and key it made (also by earlier runs). */
  async clearScenario(name: string, title: string): Promise<Removed & { kept: string[] }> {
    const sims = this.all().filter((s) => s.scenario === name);
    for (const s of sims) await this.remove(s.id, false, false);
    const made = scenarioLeftovers(this.service.store, name, title, this.#made.take(name));
    const r = await deleteMade(this.service, made);
    return { sims: sims.length, ...r };
  }

  // ---- saved credentials -----------------------------------------------------------------------

  async saveCredentials(id: string): Promise<{ saved: boolean; encrypted: boolean }> {
    const sim = this.get(id);
    this.#saved.requireVault();
    if (sim.fleetId)
      throw new ServiceError('conflict', 'fleet devices are not saved one by one; their keys are made for the run');
    const c = sim.config;
    await this.#saved.save(
      {
        id: sim.id,
        deviceId: c.deviceId,
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(sim.keyId !== undefined ? { keyId: sim.keyId } : {}),
        transport: c.transport,
        ...(c.sourceAddress !== undefined ? { sourceAddress: c.sourceAddress } : {}),
        ...(c.url !== undefined ? { url: c.url } : {}),
        behaviour: c.behaviour,
      },
      c.credentials,
    );
    sim.credentialsSaved = true;
    this.events.emit('changed', { id });
    return { saved: true, encrypted: true };
  }

  /** Brings back saved simulations (stopped) at start-up; problems go to the log, nothing throws. */
  async restore(): Promise<number> {
    const { sims, problems } = await this.#saved.load();
    const log = this.#opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    for (const p of problems) log(`keyport: simulator: ${p}`);
    let n = 0;
    for (const s of sims) {
      if (!this.service.store.getDevice(s.deviceId)) {
        log(
          `keyport: simulator: saved simulation ${s.id} is for device ${s.deviceId}, which no longer exists; not restored`,
        );
        continue;
      }
      const config: SimConfig = {
        deviceId: s.deviceId,
        ...(s.name !== undefined ? { name: s.name } : {}),
        credentials: s.credentials,
        behaviour: s.behaviour,
        transport: s.transport,
        ...(s.url !== undefined ? { url: s.url } : {}),
        ...(s.sourceAddress !== undefined ? { sourceAddress: s.sourceAddress } : {}),
      };
      try {
        const sim = this.create(
          config,
          { start: false, status: 'stopped', ...(s.keyId !== undefined ? { keyId: s.keyId } : {}) },
          s.id,
        );
        sim.credentialsSaved = true;
        sim.note(`restored with the credentials saved ${s.savedAt} (encrypted); start it to connect`);
        n++;
      } catch (err) {
        log(`keyport: simulator: saved simulation ${s.id} not restored: ${(err as Error).message}`);
      }
    }
    return n;
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /** Stops every simulation (clean DISCONNECTs) and detaches from the feed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.fleets.close();
    await Promise.all([...this.#sims.values()].map((s) => s.stop('simulator shut down').catch(() => {})));
    this.#detach.forEach((off) => off());
  }
}
