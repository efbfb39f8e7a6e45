// How to reach the broker's listeners (docs/design.md §1): URLs to copy and a ready-to-edit mosquitto_pub line.
import type { ListenerInfo } from '../../../src-main/contract.ts';

export interface ListenerUrl {
  id: 'mqtt' | 'ws' | 'tls' | 'http';
  label: string;
  url: string;
  note: string;
}

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * The host a client should dial. A wildcard bind address is not dialable: use the host this page
 * was loaded from (a browser on another machine), or loopback (the desktop app).
 */
export function dialHost(bound: string, page: { protocol: string; hostname: string } = location): string {
  if (!WILDCARD.has(bound)) return bound;
  return page.protocol.startsWith('http') && page.hostname ? page.hostname.replace(/^\[|\]$/g, '') : '127.0.0.1';
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function listenerUrls(l: ListenerInfo, host: string): ListenerUrl[] {
  const h = urlHost(host);
  return [
    {
      id: 'mqtt',
      label: 'MQTT over TCP',
      url: `mqtt://${h}:${l.mqtt}`,
      note: 'Devices, mosquitto_pub / mosquitto_sub, MQTT.js.',
    },
    {
      id: 'ws',
      label: 'MQTT over WebSocket',
      url: `ws://${h}:${l.ws}/mqtt`,
      note: 'Browsers and MQTT.js over WebSocket (any path: /mqtt, /, …).',
    },
    {
      id: 'tls',
      label: 'MQTT over TLS',
      url: `mqtts://${h}:${l.tls}`,
      note: 'Self-signed certificate: <data dir>/tls/cert.pem.',
    },
    {
      id: 'http',
      label: 'HTTP API',
      url: `http://${h}:${l.http}`,
      note: 'Losant-style REST: /auth/device, state, commands.',
    },
  ];
}

/** A mosquitto_pub line that publishes one state report as DEVICE_ID. */
export function mosquittoCommand(host: string, port: number, deviceId = 'DEVICE_ID'): string {
  return `mosquitto_pub -h ${host} -p ${port} -i ${deviceId} -u ACCESS_KEY -P SECRET -t losant/${deviceId}/state -m '{"data":{"temp":21}}'`;
}
