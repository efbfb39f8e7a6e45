// Opens ONE mqtt.js connection for a simulated device, never reconnecting by itself
// (reconnectPeriod 0): the device makes a fresh client for every attempt, so a QoS 1 message the
// broker refused is never re-sent from mqtt.js's outgoing store.
// TCP: the socket can be bound to a local 127.x.y.z address (mqtt.js's TCP builder has no
// localAddress, so the stream is built here). WebSocket: an X-Forwarded-For header can be sent.
import { createConnection } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { SimTransport } from './types.ts';

export interface ClientTarget {
  url: string;
  transport: SimTransport;
  clientId: string;
  username: string;
  password: string;
  /** TCP: local address to bind; WS: X-Forwarded-For value. */
  sourceAddress?: string;
  connectTimeoutMs?: number;
}

export function openClient(t: ClientTarget): MqttClient {
  const opts: IClientOptions = {
    clientId: t.clientId,
    username: t.username,
    password: t.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    resubscribe: false,
    connectTimeout: t.connectTimeoutMs ?? 10_000,
    keepalive: 60,
  };
  const url = new URL(t.url);
  if (t.transport === 'tcp' && t.sourceAddress && (url.protocol === 'mqtt:' || url.protocol === 'tcp:')) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : 1883;
    const localAddress = t.sourceAddress;
    return new mqtt.MqttClient(() => createConnection({ host, port, localAddress }), opts);
  }
  if (t.transport === 'ws' && t.sourceAddress) opts.wsOptions = { headers: { 'x-forwarded-for': t.sourceAddress } };
  return mqtt.connect(t.url, opts);
}

/** Ends a client without waiting and without throwing; later errors are ignored. */
export function discardClient(client: MqttClient): void {
  client.removeAllListeners('message');
  client.on('error', () => {});
  client.end(true);
}
