// Where `keyport simulate` connects and whose decisions it shows:
//  - --url: that broker (any MQTT 3.1.1 broker); only client-side outcomes.
//  - a Keyport server owns the data directory: its listeners; its decision feed over the UI bridge;
//    fleet devices and keys are made through its API.
//  - --api URL: that Keyport server (any node of a cluster) makes the fleet's devices and keys;
//    without a broker URL its own listeners on the API's host, outcomes from its decision feed.
//  - no server: a Keyport runtime started in this process on free ports for the duration.
import { readFileSync } from 'node:fs';
import type { KeyportApi, ListenerInfo, MethodName, Req, Res } from '../contract.ts';
import { ApiError } from '../service/api-error.ts';
import { dispatch } from '../service/dispatch.ts';
import type { DecisionSource } from '../simulator/outcomes.ts';
import { readLock } from '../store/lock.ts';
import { httpApi, openBackend } from './backend.ts';
import { openBridgeFeed } from './bridge-feed.ts';

export interface SimTarget {
  /** The management API (fleets need one to make devices and keys). */
  api?: KeyportApi;
  listeners?: ListenerInfo;
  /** The broker's decisions (absent with --url). */
  decisions?: DecisionSource;
  /** How the target was reached, for the first line of output. */
  description: string;
  /** How long the last decisions take to arrive after the devices stop (the bridge batches them). */
  drainMs?: number;
  close(): Promise<void>;
}

export async function openTarget(
  dataDir: string,
  opts: { url?: string; needApi: boolean; uiDir: string; api?: { url: string; token: string } },
): Promise<SimTarget> {
  if (opts.api) return remoteTarget(opts.api, opts.url);
  if (opts.url !== undefined) {
    if (!opts.needApi) return { description: `${opts.url} (client-side outcomes only)`, close: async () => {} };
    // A fleet against another broker still needs this Keyport to issue the devices' keys.
    const b = await openBackend(dataDir);
    return {
      api: b.api,
      description: `${opts.url} (client-side outcomes only; keys issued by ${dataDir})`,
      close: () => b.close(),
    };
  }
  const lock = readLock(dataDir);
  if (lock?.url && lock.adminTokenFile) {
    const b = await openBackend(dataDir);
    if (!b.listeners) {
      await b.close();
      throw new ApiError({
        code: 'unavailable',
        message: `the Keyport server owning ${dataDir} reports no MQTT listeners`,
      });
    }
    const token = readFileSync(lock.adminTokenFile, 'utf8').trim();
    const feed = await openBridgeFeed(lock.url, token).catch(async (err: unknown) => {
      await b.close();
      throw err;
    });
    return {
      api: b.api,
      listeners: b.listeners,
      decisions: feed,
      drainMs: 300,
      description: `the Keyport server at ${lock.url} (pid ${lock.pid}); outcomes from its decision feed`,
      close: async () => {
        feed.close();
        await b.close();
      },
    };
  }
  // Loaded on demand: the broker, TLS and HTTP stack.
  const { startRuntime } = await import('../server/runtime.ts');
  const rt = await startRuntime({ dataDir, uiDir: opts.uiDir, mqttPort: 0, wsPort: 0, tlsPort: 0, httpPort: 0 });
  const ctx = { service: rt.service, dataDir, listeners: () => rt.ports, simulator: rt.simulator };
  const api: KeyportApi = {
    async call<M extends MethodName>(method: M, req: Req<M>): Promise<Res<M>> {
      const reply = await dispatch(ctx, method, req);
      if (!reply.ok) throw new ApiError(reply.error);
      return reply.result as Res<M>;
    },
  };
  const p = rt.ports;
  return {
    api,
    listeners: p,
    decisions: rt.service.feed.events,
    description: `a Keyport broker started in this process for the duration, since no server owns ${dataDir} (MQTT ${p.host}:${p.mqtt}, WebSocket ${p.host}:${p.ws}); outcomes from its decision feed`,
    close: () => rt.close(),
  };
}

/** A device's name, when the target can tell. */
export async function deviceNameOf(api: KeyportApi | undefined, id: string): Promise<string | undefined> {
  if (!api) return undefined;
  try {
    return (await api.call('devices.get', { id })).name;
  } catch {
    return undefined;
  }
}

/** The key id of a public key, for routing decisions (undefined when it cannot be looked up). */
export async function keyIdOf(api: KeyportApi | undefined, key: string): Promise<string | undefined> {
  if (!api) return undefined;
  try {
    return (await api.call('keys.list', { query: { key } }))[0]?.id;
  } catch {
    return undefined;
  }
}

/** A Keyport server reached by --api URL with its admin token (the token is never printed). */
async function remoteTarget(remote: { url: string; token: string }, brokers?: string): Promise<SimTarget> {
  const api = httpApi(remote.url, remote.token);
  const info = await api.call('app.info', {});
  if (brokers !== undefined)
    return {
      api,
      description: `${brokers} (client-side outcomes only; keys issued by the Keyport server at ${remote.url})`,
      close: async () => {},
    };
  if (!info.listeners)
    throw new ApiError({
      code: 'unavailable',
      message: `the Keyport server at ${remote.url} reports no MQTT listeners`,
    });
  // Its listeners, reached on the host the API was (a wildcard listener host says nothing remote).
  const listeners = { ...info.listeners, host: new URL(remote.url).hostname.replace(/^\[|\]$/g, '') };
  const feed = await openBridgeFeed(remote.url, remote.token);
  return {
    api,
    listeners,
    decisions: feed,
    drainMs: 300,
    description: `the Keyport server at ${remote.url}; outcomes from its decision feed`,
    close: async () => feed.close(),
  };
}
