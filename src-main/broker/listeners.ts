// The three MQTT listeners (docs/design.md §1): plain TCP, WebSocket on any path, and TLS. Each hands
// every accepted connection to one ConnectionHandler (the broker's `handle`) with its transport.
// Any port may be 0 (the OS picks; `ports` reports the real ones). close() ends promptly even
// with clients connected, because every socket is tracked and destroyed.
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { ListenError } from '../shared/listen-error.ts';

export interface ListenerOptions {
  host: string;
  mqttPort: number;
  wsPort: number;
  tlsPort: number;
  tls: { cert: string; key: string };
  /**
   * Largest WebSocket message accepted (ws refuses it from the frame header, before buffering).
   * The runtime passes twice the broker's packet limit; default WS_MAX_PAYLOAD.
   */
  wsMaxMessageBytes?: number;
}
export interface ListenerPorts {
  mqtt: number;
  ws: number;
  tls: number;
}
export interface Listeners {
  ports: ListenerPorts;
  /** Stops accepting, drops every connected client and resolves once all servers are closed. Idempotent. */
  close(): Promise<void>;
}
export type ConnectionHandler = (
  stream: Duplex,
  req: IncomingMessage | undefined,
  transport: 'tcp' | 'ws' | 'tls',
) => void;

/**
 * Pending-connection queue of each listener. Node's default (511) overflows when thousands of
 * devices reconnect at once after a broker restart: the kernel then drops their SYNs and each
 * waits out TCP's retransmission timer (1 s, 3 s, 7 s, …) with the broker idle. Linux caps it
 * at net.core.somaxconn (4096 on current kernels).
 */
export const LISTEN_BACKLOG = 4096;

/**
 * The WebSocket path Keyport advertises (ws://host:port/mqtt). Upgrades are accepted on EVERY path,
 * as mosquitto's websockets listener does: clients disagree on the path. Losant's own client
 * (losant-mqtt-js lib/mqtt.js) builds `ws://` + endpoint with no path, so mqtt.js sends `/`;
 * EMQX, HiveMQ and most examples use `/mqtt`; others `/ws`. The path carries no meaning for
 * MQTT (the CONNECT packet identifies the client), so refusing any of them only breaks clients.
 */
export const MQTT_WS_PATH = '/mqtt';
/**
 * Largest single WebSocket message accepted. MQTT clients send one or a few packets per message;
 * 16 MiB is far above any sensible device payload and bounds what one client can make us buffer.
 */
export const WS_MAX_PAYLOAD = 16 * 1024 * 1024;

type ListenerKind = 'tcp' | 'ws' | 'tls';

interface Running {
  kind: ListenerKind;
  server: NetServer;
  /** Every raw TCP socket the server accepted and that is still open. */
  sockets: Set<Socket>;
  port: number;
}

const ignoreError = (): void => {};

export async function startListeners(handle: ConnectionHandler, opts: ListenerOptions): Promise<Listeners> {
  // Never let a throwing handler take the process down; just drop that connection.
  const safeHandle = (stream: Duplex, req: IncomingMessage | undefined, t: ListenerKind): void => {
    try {
      handle(stream, req, t);
    } catch {
      stream.destroy();
    }
  };

  const tcp = createNetServer((sock) => safeHandle(sock, undefined, 'tcp'));

  const tls = createTlsServer({ cert: opts.tls.cert, key: opts.tls.key });
  // Destroying the raw socket also ends the TLS socket over it; tracking both is belt and braces
  // and gives the TLS socket an error listener before anything else sees it.
  const tlsSockets = new Set<Socket>();
  const trackTls = tracker(tlsSockets);
  tls.on('secureConnection', (sock: TLSSocket) => {
    trackTls(sock);
    safeHandle(sock, undefined, 'tls');
  });
  tls.on('tlsClientError', ignoreError); // failed handshakes (plain TCP client, bad CA): socket is dropped

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.wsMaxMessageBytes ?? WS_MAX_PAYLOAD,
    handleProtocols: (protocols: Set<string>) => {
      if (protocols.has('mqtt')) return 'mqtt';
      if (protocols.has('mqttv3.1')) return 'mqttv3.1';
      const first = protocols.values().next();
      return first.done ? false : first.value;
    },
  });
  wss.on('error', ignoreError);
  // A plain GET (no Upgrade) on any path: 426, naming the URL to use (RFC 7231 section 6.5.15).
  const http: HttpServer = createHttpServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket', connection: 'close' });
    res.end(`Upgrade Required: connect with MQTT over WebSocket (any path, e.g. ${MQTT_WS_PATH} or /)\n`);
  });
  http.on('clientError', (_err, socket: Duplex) => socket.destroy());
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', ignoreError);
    // Every path is MQTT (see MQTT_WS_PATH). ws itself answers 400 to a malformed upgrade.
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      safeHandle(stream, req, 'ws');
    });
  });

  const plan: Array<[ListenerKind, NetServer, number]> = [
    ['tcp', tcp, opts.mqttPort],
    ['ws', http, opts.wsPort],
    ['tls', tls, opts.tlsPort],
  ];
  const results = await Promise.allSettled(plan.map(([kind, server, port]) => listen(kind, server, port, opts.host)));

  const running = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await Promise.all(running.map((r) => stopServer(r.server, [r.sockets, tlsSockets])));
    })();
    return closing;
  };

  if (failed) {
    await close();
    throw failed.reason;
  }
  const port = (kind: ListenerKind): number => running.find((r) => r.kind === kind)?.port ?? 0;
  return { ports: { mqtt: port('tcp'), ws: port('ws'), tls: port('tls') }, close };
}

/** Listens and starts tracking sockets; rejects with a ListenError. */
function listen(kind: ListenerKind, server: NetServer, port: number, host: string): Promise<Running> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<Socket>();
    const onError = (err: unknown): void => {
      server.off('listening', onListening);
      reject(new ListenError(kind, host, port, err));
    };
    const onListening = (): void => {
      server.off('error', onError);
      server.on('error', ignoreError); // nothing useful to do with a late server error
      resolve({ kind, server, sockets, port: (server.address() as AddressInfo).port });
    };
    server.on('connection', tracker(sockets));
    server.once('error', onError);
    server.once('listening', onListening);
    try {
      server.listen({ port, host, backlog: LISTEN_BACKLOG });
    } catch (err) {
      // Invalid port numbers throw synchronously (ERR_SOCKET_BAD_PORT).
      server.off('error', onError);
      server.off('listening', onListening);
      reject(new ListenError(kind, host, port, err));
    }
  });
}

/**
 * Returns what remembers each open socket of `set` until it closes. A reset by the peer must not
 * crash the process, so a socket gets an error listener unless it has one: TCP sockets arrive
 * after the broker's handler gave them aedes' (which aedes swaps for a no-op once the client
 * closes), and a second one only grew their error-listener array. The close listener is one
 * function shared by the set's sockets (`this` is the socket; 'close' is emitted once): a
 * closure per socket under `once` cost it a closure, its context and once's wrapper and state
 * (~200 bytes per idle connection, issue 17 item 4).
 */
function tracker(set: Set<Socket>): (sock: Socket) => void {
  const forget = function forget(this: Socket): void {
    set.delete(this);
  };
  return (sock) => {
    set.add(sock);
    if (sock.listenerCount('error') === 0) sock.on('error', ignoreError);
    sock.on('close', forget);
  };
}

function stopServer(server: NetServer, socketSets: Array<Set<Socket>>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve()); // an error here only means "was not listening"
    for (const set of socketSets) for (const sock of set) sock.destroy();
  });
}
