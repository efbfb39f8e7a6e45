// What the broker keeps per aedes connection: the listener it came from, and once CONNECT was
// accepted its session and how that session sees topics. Found from the aedes Client (read on
// every message), with the connection's peer address as CONNECT checks read it.
import type { Client } from 'aedes';
import type { SessionView } from '../core/topic-access.ts';
import type { Transport } from '../core/types.ts';
import type { LiveSession } from './sessions.ts';

export interface ClientInfo {
  transport: Transport;
  session?: LiveSession | undefined;
  /** The session as the topic checks see it; made once at CONNECT, its rules read live. */
  view?: SessionView | undefined;
}

/**
 * The stored form: one class, every field set in the constructor, so `session` and `view` set at
 * CONNECT fill slots the object already has (an object literal `{ transport }` got an extra
 * property array for them, issue 17 item 4).
 */
class Info implements ClientInfo {
  constructor(
    public transport: Transport,
    public session: LiveSession | undefined,
    public view: SessionView | undefined,
  ) {}
}

// Kept beside the Client, not on it: a property added to aedes' Client object after its
// constructor gave every connection a ~450-byte property store (issue 17 item 4).
const INFO = new WeakMap<Client, ClientInfo>();

export function setClientInfo(client: Client, info: ClientInfo): void {
  INFO.set(client, new Info(info.transport, info.session, info.view));
}

export function infoOf(client: Client): ClientInfo {
  let info = INFO.get(client);
  if (!info) INFO.set(client, (info = new Info('tcp', undefined, undefined)));
  return info;
}

/** The socket peer and, over WebSocket, the X-Forwarded-For header (docs/design.md §6). */
export function peerOf(client: Client, transport: Transport): { peer: string; forwardedFor?: string | string[] } {
  if (transport === 'ws' && client.req) {
    const xff = client.req.headers['x-forwarded-for'];
    return { peer: client.req.socket.remoteAddress ?? '', ...(xff !== undefined ? { forwardedFor: xff } : {}) };
  }
  return { peer: remoteAddressOf(client.conn as unknown as PeerSocket) };
}

interface PeerSocket {
  remoteAddress?: string;
  _handle?: { getpeername?: (out: { address?: unknown }) => number } | null;
}

/**
 * The socket's peer address, asked of its handle (what net.Socket's `remoteAddress` getter asks)
 * without `remoteAddress`'s cache: that getter keeps `{address, family, port}` on the socket for
 * its life (`_peername`), ~110 bytes per idle connection (issue 17 item 4), while the session
 * keeps the address it needs. A socket without such a handle (TLS over its own stream, a test's
 * duplex) is asked through `remoteAddress`.
 */
function remoteAddressOf(conn: PeerSocket): string {
  const h = conn._handle;
  if (h && typeof h.getpeername === 'function') {
    const out: { address?: unknown } = {};
    if (h.getpeername(out) === 0 && typeof out.address === 'string') return out.address;
  }
  return conn.remoteAddress ?? '';
}

export const joinHeader = (h: string | string[] | undefined): string | undefined =>
  Array.isArray(h) ? h.join(', ') : h;
