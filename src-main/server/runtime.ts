// Starts the whole backend on a data directory: lock, store, service, broker with its three
// listeners, and the HTTP server. Used by `keyport serve`, the Electron main process and tests.
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import type { LimitsInfo, ListenerInfo } from '../contract.ts';
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies, type TrustedProxies } from '../core/client-address.ts';
import { KeyportBroker } from '../broker/broker.ts';
import { resolveBrokerLimits, type BrokerLimits } from '../broker/broker-limits.ts';
import { Redis } from 'ioredis';
import { openClusterEngine, type ClusterEngine } from '../broker/cluster-engine.ts';
import { maskRedisUrl, type ClusterSettings } from '../broker/cluster-url.ts';
import { loadClusterSecrets } from '../service/cluster-secrets.ts';
import { loadClusterSetting } from '../service/cluster-setting.ts';
import type { DispatchContext } from '../service/dispatch.ts';
import { followClusterChanges } from '../service/cluster-sync.ts';
import { openRedisStore } from '../store/redis-store.ts';
import { attachClusterViews, type ClusterViews } from './cluster-views.ts';
import { startListeners, type Listeners } from '../broker/listeners.ts';
import { loadOrCreateCertificate } from '../broker/tls-cert.ts';
import { ADMIN_TOKEN_FILE, ensureDataDir, loadAdminToken, loadPepper, writeAdminToken } from '../service/data-dir.ts';
import { DecisionLog, type DecisionLogOptions } from '../service/decision-log.ts';
import { KeyportService } from '../service/service.ts';
import type { BackoffOptions } from '../simulator/backoff.ts';
import type { CredentialVault } from '../simulator/credential-store.ts';
import { Simulator } from '../simulator/simulator.ts';
import { ListenError } from '../shared/listen-error.ts';
import { removeLeftoverTempFiles } from '../shared/temp-files.ts';
import { acquireLock, type DataDirLock } from '../store/lock.ts';
import { openLowdbStore, readStoreDir } from '../store/lowdb-store.ts';
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
  routes?: (rt: Omit<Runtime, 'close' | 'ports' | 'uiUrl' | 'dispatch'>) => RouteModule[];
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
  /** What every transport dispatches with (HTTP /rpc, the UI bridge, the desktop app's IPC). */
  dispatch: DispatchContext;
  close(): Promise<void>;
}

/**
 * The store of this run: the one handed in, else (clustered) the Redis store every node shares,
 * else the lowdb file in the data directory. A cluster whose Redis holds no devices and no keys
 * yet takes this node's data directory as its start (the first node of a new cluster brings its
 * devices and keys, as it brings its pepper: cluster-secrets.ts).
 */
async function openStore(opts: RuntimeOptions, log: (line: string) => void): Promise<Store> {
  if (opts.store) return opts.store;
  if (!opts.cluster) return openLowdbStore(opts.dataDir, { log });
  const store = await openRedisStore(opts.cluster.url, { log });
  try {
    if (store.listDevices().length === 0 && store.listKeys().length === 0) {
      const local = await readStoreDir(opts.dataDir);
      if (local && (local.devices.length > 0 || local.keys.length > 0)) {
        await Promise.all([...local.devices.map((d) => store.putDevice(d)), ...local.keys.map((k) => store.putKey(k))]);
        log(
          `keyport: the cluster's store was empty: ${local.devices.length} device(s) and ${local.keys.length} key(s) of ${opts.dataDir} copied into it`,
        );
      }
    }
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

/** Clustered: the pepper and admin token every node shares (cluster-secrets.ts); else this data directory's. */
async function loadSecrets(
  opts: RuntimeOptions,
  log: (line: string) => void,
): Promise<{ pepper: Buffer; adminToken: string }> {
  if (!opts.cluster) return { pepper: await loadPepper(opts.dataDir), adminToken: await loadAdminToken(opts.dataDir) };
  const redis = new Redis(opts.cluster.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true });
  redis.on('error', () => {}); // reported by the calls below, masked
  try {
    await redis.connect();
    const secrets = await loadClusterSecrets(redis, opts.dataDir, { log });
    // The CLI on this machine reads the admin token from the data directory (store/lock.ts).
    await writeAdminToken(opts.dataDir, secrets.adminToken);
    return secrets;
  } catch (err) {
    throw new Error(
      `cannot read the cluster's secrets from ${maskRedisUrl(opts.cluster.url)}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
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
  // The cluster stored in settings.json (the desktop app's setting) unless the caller names one.
  if (opts.cluster === undefined) {
    const stored = await loadClusterSetting(dataDir);
    if (stored) opts = { ...opts, cluster: stored };
  }
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
    const secrets = await loadSecrets(opts, log);
    const service = new KeyportService({ store, pepper: secrets.pepper, log });
    // Clustered: what other nodes change reaches this node's service as local changes do.
    const unfollow = followClusterChanges(service, store);
    undo.push(async () => unfollow());
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
    const adminToken = secrets.adminToken;
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
    let clusterViews: ClusterViews | null = null;
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
    const ctx: DispatchContext = {
      service,
      dataDir,
      listeners: () => ports,
      brokerStatus: () => {
        const status = broker.status(ports);
        return clusterViews ? clusterViews.status(status) : status;
      },
      limits: limitsControl,
      simulator,
      trustedProxies: trusted,
      cluster: () => base.cluster,
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
    if (opts.cluster && engine) {
      // Decisions merged from every node, the node registry, bans and connect rates across nodes.
      const views = await attachClusterViews({
        redisUrl: opts.cluster.url,
        nodeId: engine.id,
        service,
        broker,
        ports: () => ports,
        log,
      });
      clusterViews = views;
      undo.push(() => views.close());
    }
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    const url = `http://${urlHost}:${httpPort}`;
    await lock.update({ httpPort, url, adminTokenFile });
    await simulator.restore(); // saved simulations come back stopped (desktop only: needs the vault)
    let closed: Promise<void> | null = null;
    return {
      ...base,
      dispatch: ctx,
      ports,
      uiUrl: `${url}/#token=${adminToken}`,
      close: () =>
        (closed ??= (async () => {
          await simulator.close(); // clean DISCONNECTs while the broker still listens
          await listeners.close();
          engine?.beginClose();
          await broker.close();
          await engine?.close(); // after the broker: its last session writes go to Redis
          await clusterViews?.close(); // after the broker: the shutdown's disconnect decisions go out
          unfollow();
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
