// keyport serve: the headless backend (docs/design.md §12). Prints where everything listens, runs until
// SIGINT/SIGTERM/SIGHUP or until its parent process exits (parent-watch.ts), then closes the
// listeners, flushes the store (every acknowledged change and state report), releases the lock
// and exits 0.
import { startRuntime, DEFAULT_PORTS, type Runtime } from '../server/runtime.ts';
import { intFlag, parse, strings } from './args.ts';
import type { CliIo } from './io.ts';
import { watchParent } from './parent-watch.ts';
import { listenForStop } from './stop-request.ts';
import { uiDir } from './ui-dir.ts';
import { UsageError } from './usage.ts';
import { MQTT_MAX_REMAINING, resolveBrokerLimits } from '../broker/broker-limits.ts';
import { parseLimitsMode, type LimitsMode } from '../core/limits.ts';
import { checkNodeId, checkRedisUrl, type ClusterSettings } from '../broker/cluster-url.ts';

/** --cluster URL (or KEYPORT_CLUSTER) and --node-id, checked before anything starts (exit 2 names the flag). */
function clusterFlags(url: string | undefined, nodeId: string | undefined, env: NodeJS.ProcessEnv) {
  const from = url !== undefined ? '--cluster' : 'KEYPORT_CLUSTER';
  const u = url ?? (env.KEYPORT_CLUSTER || undefined);
  if (u === undefined) {
    if (nodeId !== undefined) throw new UsageError('--node-id needs --cluster redis://HOST:PORT');
    return undefined;
  }
  const settings: ClusterSettings = { url: u };
  try {
    checkRedisUrl(u);
  } catch (err) {
    throw new UsageError(`${from}: ${(err as Error).message}`);
  }
  if (nodeId !== undefined) {
    try {
      settings.nodeId = checkNodeId(nodeId);
    } catch (err) {
      throw new UsageError(`--node-id: ${(err as Error).message}`);
    }
  }
  return settings;
}

export async function serveCommand(
  args: string[],
  dataDir: string,
  io: CliIo,
  onReady?: (rt: Runtime) => void,
): Promise<number> {
  const { values, positionals } = parse(args, {
    host: { type: 'string' },
    'mqtt-port': { type: 'string' },
    'ws-port': { type: 'string' },
    'tls-port': { type: 'string' },
    'http-port': { type: 'string' },
    'trusted-proxy': { type: 'string', multiple: true },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'max-packet': { type: 'string' },
    'max-queue': { type: 'string' },
    'drain-timeout': { type: 'string' },
    'max-filters': { type: 'string' },
    limits: { type: 'string' },
    cluster: { type: 'string' },
    'node-id': { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`serve takes no arguments (got "${positionals[0]}")`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  const trusted = strings(values['trusted-proxy']);
  const port = (name: string, def: number) => intFlag(name, values[name], 0, 65535) ?? def;
  const maxPacket = intFlag('max-packet', values['max-packet'], 128, MQTT_MAX_REMAINING);
  const maxQueue = intFlag('max-queue', values['max-queue'], 1024, 2 ** 40);
  const drainTimeout = intFlag('drain-timeout', values['drain-timeout'], 0, 3_600_000);
  const maxFilters = intFlag('max-filters', values['max-filters'], 1, 65_535);
  const brokerLimits = {
    ...(maxPacket !== undefined ? { maxPacket } : {}),
    ...(maxQueue !== undefined ? { maxQueuedBytes: maxQueue } : {}),
    ...(drainTimeout !== undefined ? { drainTimeoutMs: drainTimeout } : {}),
    ...(maxFilters !== undefined ? { maxFiltersPerSubscribe: maxFilters } : {}),
  };
  try {
    resolveBrokerLimits(brokerLimits);
  } catch (err) {
    throw new UsageError(
      (err as Error).message.replace('maxQueuedBytes', '--max-queue').replace('maxPacket', '--max-packet'),
    );
  }
  let limitsMode: LimitsMode | undefined;
  try {
    if (values.limits !== undefined) limitsMode = parseLimitsMode(values.limits);
  } catch (err) {
    throw new UsageError(`--${(err as Error).message}`);
  }
  const cluster = clusterFlags(values.cluster as string | undefined, values['node-id'] as string | undefined, io.env);
  // Listening before anything starts: a signal during start-up, or the instant after the ready
  // line, stops the server cleanly instead of killing it by the default action (stop-request.ts).
  const stop = listenForStop(io.signals);
  let rt: Runtime;
  try {
    rt = await startRuntime({
      ...(cluster ? { cluster } : {}),
      brokerLimits,
      ...(limitsMode ? { limits: limitsMode } : {}),
      dataDir,
      uiDir: uiDir(),
      ...(values.host !== undefined ? { host: values.host as string } : {}),
      mqttPort: port('mqtt-port', DEFAULT_PORTS.mqtt),
      wsPort: port('ws-port', DEFAULT_PORTS.ws),
      tlsPort: port('tls-port', DEFAULT_PORTS.tls),
      httpPort: port('http-port', DEFAULT_PORTS.http),
      ...(trusted.length ? { trustedProxies: trusted.includes('none') ? [] : trusted } : {}),
      ...(values['tls-cert'] !== undefined
        ? { tlsCert: { certFile: values['tls-cert'] as string, keyFile: values['tls-key'] as string } }
        : {}),
    });
  } catch (err) {
    stop.dispose();
    throw err;
  }
  if (stop.reason !== null) {
    // Asked to stop while starting: nothing was announced, so nothing more is printed on stdout.
    io.stderr.write(`keyport: ${stop.reason} during start-up; stopping\n`);
    return closeRuntime(rt, io);
  }
  const p = rt.ports;
  if (values.json) {
    // docs/design.md §12: ONE line, so a script can read a single line and parse it.
    io.stdout.write(
      JSON.stringify({
        mqtt: p.mqtt,
        ws: p.ws,
        tls: p.tls,
        http: p.http,
        applicationId: rt.service.applicationId,
        dataDir: rt.dataDir,
        uiUrl: rt.uiUrl,
        adminTokenFile: rt.adminTokenFile,
        ...(rt.cluster ? { cluster: rt.cluster } : {}),
      }) + '\n',
    );
  } else {
    io.stdout.write(
      [
        `Keyport is running (data: ${rt.dataDir})`,
        `  UI:          ${rt.uiUrl}`,
        `  MQTT:        mqtt://${p.host}:${p.mqtt}`,
        `  MQTT/WS:     ws://${p.host}:${p.ws}/mqtt`,
        `  MQTT/TLS:    mqtts://${p.host}:${p.tls}  (certificate SHA-256 ${rt.tlsFingerprint})`,
        `  HTTP API:    http://${p.host}:${p.http}  (admin token in ${rt.adminTokenFile})`,
        ...(rt.cluster ? [`  Cluster:     node ${rt.cluster.nodeId} on ${rt.cluster.url}`] : []),
        `  Limits:      ${rt.broker.losant.mode === 'losant' ? "Losant's (rates, bans, no QoS 2 / retain / persistent sessions)" : 'off'}`,
        'This terminal is the server now: run other commands in a second terminal',
        '(`npx keyport ui-url` prints the UI link again). Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    );
  }
  onReady?.(rt);
  let unwatch = () => {};
  if (io.watchParent === true) {
    unwatch = watchParent(() => {
      // Whoever reads our output may have gone with the parent: a broken pipe must not stop the flush.
      for (const out of [process.stdout, process.stderr]) out.on('error', () => {});
      io.stderr.write(`keyport: the parent process exited; stopping\n`);
      stop.request('parent exited');
    });
  }
  const reason = await stop.stopped;
  unwatch();
  if (!values.json) io.stdout.write(`\n${reason}: closing listeners and flushing the store…\n`);
  return closeRuntime(rt, io);
}

/** Closes the listeners, flushes the store and releases the lock: 0, or 1 with the reason on stderr. */
function closeRuntime(rt: Runtime, io: CliIo): Promise<number> {
  return rt.close().then(
    () => 0,
    (err: unknown) => {
      io.stderr.write(`keyport: shutdown failed: ${(err as Error).message}\n`);
      return 1;
    },
  );
}
