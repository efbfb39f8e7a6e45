// Starts the whole backend on a data directory: lock, store, service, broker with its three
// listeners, and the HTTP server. Used by `keyport serve`, the Electron main process and tests.
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import type { LimitsInfo, ListenerInfo } from '../contract.ts';
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies, type TrustedProxies } from '../core/client-address.ts';
import { KeyportBroker } from '../broker/broker.ts';
import { resolveBrokerLimits, type BrokerLimits } from '../broker/broker-limits.ts';
import { openClusterEngine, type ClusterEngine } from '../broker/cluster-engine.ts';
import type { ClusterSettings } from '../broker/cluster-url.ts';
import { startListeners, type Listeners } from '../broker/listeners.ts';
import { loadOrCreateCertificate } from '../broker/tls-cert.ts';
import { ADMIN_TOKEN_FILE, ensureDataDir, loadAdminToken, loadPepper } from '../service/data-dir.ts';
import { DecisionLog, type DecisionLogOptions } from '../service/decision-log.ts';
import { KeyportService } from '../service/service.ts';
import type { BackoffOptions } from '../simulator/backoff.ts';
import type { CredentialVault } from '../simulator/credential-store.ts';
import { Simulator } from '../simulator/simulator.ts';
import { ListenError } from '../shared/listen-error.ts';
import { removeLeftoverTempFiles } from '../shared/temp-files.ts';
import { acquireLock, type DataDirLock } from '../store/lock.ts';
import { openLowdbStore } from '../store/lowdb-store.ts';
import type { Store } from '../store/store.ts';
import type { LimitsMode } from '../core/limits.ts';
import { loadLimitsMode, saveLimitsMode } from '../service/limits-setting.ts';
import { createHttpApp, type RouteModule } from './http-app.ts';
import { losantApiRoutes } from './losant-api/routes.ts';
import { rpcRoutes } from './rpc-routes.ts';
import { staticUi } from './static-ui.ts';
import { uiBridge } from './ui-bridge.ts';

export const DEFAULT_PORTS = { mqtt: 1883, ws: 8083, tls: 8883, http: 8484 } as const;

export interface RuntimeOptions {
  dataDir: string;
  host?: string;
  mqttPort?: number;
  wsPort?: number;
  tlsPort?: number;
  httpPort?: number;
  /** Peers whose X-Forwarded-For is believed (IPs/CIDRs). Default: loopback only. */
  trustedProxies?: readonly string[];
  tlsCert?: { certFile: string; keyFile: string };
  /** Per-connection broker limits (packet sizes, slow consumers, SUBSCRIBE bounds). */
  brokerLimits?: Partial<BrokerLimits>;
  /** Losant limits mode; given, it is also stored in the data directory. Absent: the stored one, else 'losant'. */
  limits?: LimitsMode;
  /** The limits' clock (ms); tests advance one to expire a 30 s ban without waiting. */
  now?: () => number;
  /** Route modules mounted IN PLACE OF the default Losant API (tests mount it with their own clock or proxies). */
  routes?: (rt: Omit<Runtime, 'close' | 'ports' | 'uiUrl'>) => RouteModule[];
  /** The decision log on disk (service/decision-log.ts): its bounds; `false` keeps decisions in memory only. */
  decisionLog?: Pick<DecisionLogOptions, 'maxBytes' | 'flushMs'> | false;
  /** Tests may hand in a store; otherwise the lowdb store in dataDir (see openStore). */
  store?: Store;
  /** Cluster mode (docs/design.md §12b): this node shares its broker state with others through Redis. */
  cluster?: ClusterSettings;
  log?: (line: string) => void;
  mode?: 'desktop' | 'headless';
  /** Where the built UI is (default out/renderer). */
  uiDir?: string;
  /** Simulator: the desktop app passes Electron safeStorage (saved simulator credentials); tests pass short back-offs. */
  simulator?: { vault?: CredentialVault; backoff?: BackoffOptions; scenarioStepMs?: number; connectTimeoutMs?: number };
}

export interface Runtime {
  service: KeyportService;
  broker: KeyportBroker;
  simulator: Simulator;
  dataDir: string;
  adminToken: string;
  adminTokenFile: string;
  ports: ListenerInfo;
  uiUrl: string;
  tlsFingerprint: string;
  /** Switches limits mode live and stores it (the Broker view's switch, through broker.setLimits). */
  limits: { set(mode: LimitsMode): Promise<LimitsInfo> };
  /** The peers whose X-Forwarded-For the broker believes: every DispatchContext must carry these. */
  trustedProxies: TrustedProxies;
  /** Cluster mode: this node's id and the Redis URL (password masked); null when not clustered. */
  cluster: { nodeId: string; url: string } | null;
  close(): Promise<void>;
}

/**
 * The store of this run: the one handed in, else the lowdb file in the data directory. Cluster mode
 * uses the same for now (each node its own file; tests share one store); the Redis store goes here.
 */
async function openStore(opts: RuntimeOptions, log: (line: string) => void): Promise<Store> {
  if (opts.store) return opts.store;
  return openLowdbStore(opts.dataDir, { log });
}

async function listenHttp(app: FastifyInstance, host: string, port: number): Promise<number> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    throw new ListenError('http', host, port, err);
  }
  const a = app.server.address();
  return typeof a === 'object' && a ? a.port : port;
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const host = opts.host ?? '127.0.0.1';
  const dataDir = opts.dataDir;
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const trusted = parseTrustedProxies(opts.trustedProxies ?? DEFAULT_TRUSTED_PROXIES);
  ensureDataDir(dataDir);
  const undo: (() => Promise<void>)[] = [];
  const rollback = async () => {
    for (const u of undo.reverse()) await u().catch(() => {});
  };
  try {
    const lock: DataDirLock = await acquireLock(dataDir, {});
    undo.push(() => lock.release());
    // Ours now: what a process killed mid-write left in it can go (the TLS pair lives in tls/).
    await removeLeftoverTempFiles([dataDir, join(dataDir, 'tls')], log);
    // First of the shared state: an unreachable Redis fails the start before anything listens.
    let engine: ClusterEngine | null = null;
    if (opts.cluster) {
      const e = (engine = await openClusterEngine({ ...opts.cluster, log }));
      undo.push(() => e.close());
      undo.push(async () => e.beginClose()); // runs before the broker's close (undo is reversed)
    }
    const store = await openStore(opts, log);
    undo.push(() => store.close());
    const service = new KeyportService({ store, pepper: await loadPepper(dataDir), log });
    // The last decisions of the previous run come back before the broker records new ones.
    let decisionLog: DecisionLog | null = null;
    if (opts.decisionLog !== false) {
      const opened = await DecisionLog.open(dataDir, service.feed.capacity, { ...opts.decisionLog, log });
      decisionLog = opened.log;
      service.feed.restore(opened.events);
      const dlog = decisionLog;
      const off = service.feed.events.on('decision', (e) => dlog.append(e));
      undo.push(async () => {
        off();
        await dlog.close();
      });
    }
    const adminToken = await loadAdminToken(dataDir);
    const adminTokenFile = join(dataDir, ADMIN_TOKEN_FILE);
    const cert = await loadOrCreateCertificate(dataDir, opts.tlsCert);
    const limits = resolveBrokerLimits(opts.brokerLimits);
    // A WebSocket message may carry more than one MQTT packet; twice the packet limit bounds what
    // ws buffers per connection while never splitting a legitimate largest packet.
    const wsMaxMessageBytes = 2 * limits.maxPacket;
    if (opts.limits) await saveLimitsMode(dataDir, opts.limits);
    const limitsMode = opts.limits ?? (await loadLimitsMode(dataDir));
    const broker = await KeyportBroker.create({
      ports: service.ports({ trustedProxies: trusted }),
      log,
      limits,
      wsMaxMessageBytes,
      limitsMode,
      onMessage: service.messages.tap,
      ...(opts.now ? { now: opts.now } : {}),
      ...(engine ? { engine } : {}),
    });
    undo.push(() => broker.close());
    const listeners: Listeners = await startListeners(broker.handle, {
      host,
      mqttPort: opts.mqttPort ?? DEFAULT_PORTS.mqtt,
      wsPort: opts.wsPort ?? DEFAULT_PORTS.ws,
      tlsPort: opts.tlsPort ?? DEFAULT_PORTS.tls,
      tls: { cert: cert.cert, key: cert.key },
      wsMaxMessageBytes,
    });
    undo.push(() => listeners.close());
    let ports: ListenerInfo | null = null;
    const losant = broker.losant;
    const simulator = new Simulator({
      service,
      dataDir,
      listeners: () => ports,
      log,
      limits: {
        get on() {
          return losant.on;
        },
        banRemainingMs(deviceId) {
          const now = losant.now();
          const ban = losant.app.banOf(deviceId, now);
          return ban ? ban.until - now : 0;
        },
      },
      ...opts.simulator,
    });
    undo.push(() => simulator.close());
    const limitsControl = {
      async set(mode: LimitsMode): Promise<LimitsInfo> {
        await saveLimitsMode(dataDir, mode); // stored first: a failed write changes nothing
        broker.losant.mode = mode;
        return broker.losant.info();
      },
    };
    const base = {
      service,
      broker,
      simulator,
      dataDir,
      adminToken,
      adminTokenFile,
      tlsFingerprint: cert.fingerprint,
      limits: limitsControl,
      trustedProxies: trusted,
      cluster: engine ? { nodeId: engine.id, url: engine.url } : null,
    };
    const ctx = {
      service,
      dataDir,
      listeners: () => ports,
      brokerStatus: () => broker.status(ports),
      limits: limitsControl,
      simulator,
      trustedProxies: trusted,
      publishAsPlatform: (topic: string, payload: Buffer, o: { qos: 0 | 1; retain: boolean }) =>
        broker.publishAsPlatform(topic, payload, o),
      ...(opts.mode ? { mode: opts.mode } : {}),
    };
    let httpPort = 0;
    const http = await createHttpApp({
      hosts: { listenHost: host, port: () => httpPort },
      log,
      modules: [
        rpcRoutes(ctx, adminToken),
        ...(opts.routes?.(base) ?? losantApiRoutes({ ...base, trustedProxies: trusted })),
        uiBridge(ctx, adminToken),
        staticUi(opts.uiDir),
      ],
    });
    undo.push(() => http.close());
    httpPort = await listenHttp(http, host, opts.httpPort ?? DEFAULT_PORTS.http);
    const closeHttp = () => http.close();
    ports = { host, mqtt: listeners.ports.mqtt, ws: listeners.ports.ws, tls: listeners.ports.tls, http: httpPort };
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    const url = `http://${urlHost}:${httpPort}`;
    await lock.update({ httpPort, url, adminTokenFile });
    await simulator.restore(); // saved simulations come back stopped (desktop only: needs the vault)
    let closed: Promise<void> | null = null;
    return {
      ...base,
      ports,
      uiUrl: `${url}/#token=${adminToken}`,
      close: () =>
        (closed ??= (async () => {
          await simulator.close(); // clean DISCONNECTs while the broker still listens
          await listeners.close();
          engine?.beginClose();
          await broker.close();
          await engine?.close(); // after the broker: its last session writes go to Redis
          await decisionLog?.close(); // the disconnects of the shutdown included
          await closeHttp();
          try {
            await store.close(); // writes every acknowledged change and state report still pending
          } finally {
            await lock.release(); // even when that last write failed: this process is leaving
          }
        })()),
    };
  } catch (err) {
    await rollback();
    throw err;
  }
}
