// The Keyport service + broker with no disk and no sockets, for policy tests (CONNECT, PUBLISH,
// SUBSCRIBE and delivery decisions) where the network is not the point. In the style of aedes'
// own test/helper.js: each client is a real mqtt.js MqttClient whose stream is one end of an
// in-memory duplex pair, and the other end goes to the broker's `handle`, exactly as the TCP,
// WebSocket and TLS listeners hand it a socket. The peer address (and, for 'ws', the request
// headers) are what a listener would have seen. What crosses a real network (socket addresses,
// WebSocket headers on the wire, TLS, mosquitto clients) stays in test/integration/.
import { randomBytes } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { IClientOptions, MqttClient } from 'mqtt';
import { KeyportBroker, type BrokerOptions } from '../../src-main/broker/broker.ts';
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies } from '../../src-main/core/client-address.ts';
import type { Transport } from '../../src-main/core/types.ts';
import { KeyportService } from '../../src-main/service/service.ts';
import { createMemoryStore } from '../../src-main/store/memory-store.ts';
import type { Store } from '../../src-main/store/store.ts';
import { backendHelpers, type BackendHarness } from './runtime-harness.ts';

/**
 * Two connected in-memory streams: what one side writes, the other reads. Ending one side ends
 * the other's readable; destroying one destroys the other (a socket closed by either peer).
 * (node:stream's duplexPair, which aedes' helper uses, is Node 22; these machines run Node 20.)
 */
export function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      allowHalfOpen: false,
      read() {},
      write(chunk: Buffer, _enc, cb) {
        const p = peer();
        if (!p.destroyed) p.push(chunk);
        cb();
      },
      final(cb) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        if (!p.destroyed) p.destroy();
        cb(err);
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}

/**
 * Where an in-memory client "comes from": the listener it stands for and the peer address that
 * listener would report. For 'ws' the request headers are the client's `wsOptions.headers` (what
 * mqtt.js would send in the WebSocket upgrade), lower-cased as node's IncomingMessage has them.
 */
export interface Dial {
  transport: Transport;
  remoteAddress: string;
  /** Builds the client's stream and hands the other end to the broker (mqtt.js StreamBuilder). */
  stream(client: MqttClient): Duplex;
}

export interface BrokerHarness extends BackendHarness {
  rt: { service: KeyportService; broker: KeyportBroker; store: Store };
  /** From 127.0.0.1 over each listener kind. */
  tcp: Dial;
  ws: Dial;
  tls: Dial;
  dial(transport: Transport, remoteAddress: string): Dial;
}

export interface BrokerHarnessOptions {
  trustedProxies?: readonly string[];
  limits?: BrokerOptions['limits'];
  /** Default 'off' as in the socket harness: suites publish fast and use retain / QoS 2. */
  limitsMode?: BrokerOptions['limitsMode'];
  now?: () => number;
  /** The broker's log line sink (default: dropped). */
  log?: (line: string) => void;
}

function headersOf(opts: IClientOptions): IncomingMessage['headers'] {
  const given = (opts.wsOptions as { headers?: Record<string, string | string[]> } | undefined)?.headers ?? {};
  return Object.fromEntries(Object.entries(given).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The service over a memory store and the broker over it, as startRuntime wires them. */
export async function startBrokerHarness(opts: BrokerHarnessOptions = {}): Promise<BrokerHarness> {
  const store = createMemoryStore();
  const service = new KeyportService({ store, pepper: randomBytes(32), log: () => {} });
  const broker = await KeyportBroker.create({
    ports: service.ports({ trustedProxies: parseTrustedProxies(opts.trustedProxies ?? DEFAULT_TRUSTED_PROXIES) }),
    log: opts.log ?? (() => {}),
    limitsMode: opts.limitsMode ?? 'off',
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const dial = (transport: Transport, remoteAddress: string): Dial => ({
    transport,
    remoteAddress,
    stream(client) {
      const [clientEnd, brokerEnd] = duplexPair();
      // A net.Socket / tls.TLSSocket carries the peer address itself; a WebSocket stream does
      // not, its upgrade request does (docs/design.md §6).
      // The Socket is never connected: it only carries the address, as the upgraded one would.
      let req: IncomingMessage | undefined;
      if (transport === 'ws') {
        const socket = new Socket();
        Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
        req = new IncomingMessage(socket);
        req.headers = headersOf(client.options);
      } else Object.defineProperty(brokerEnd, 'remoteAddress', { value: remoteAddress });
      broker.handle(brokerEnd, req, transport);
      return clientEnd;
    },
  });
  return {
    rt: { service, broker, store },
    tcp: dial('tcp', '127.0.0.1'),
    ws: dial('ws', '127.0.0.1'),
    tls: dial('tls', '127.0.0.1'),
    dial,
    ...backendHelpers(service),
    async stop() {
      await broker.close();
      await store.close();
    },
  };
}
