// What the broker keeps per aedes connection: the listener it came from, and once CONNECT was
// accepted its session and how that session sees topics. Found from the aedes Client (read on
// every message), with the connection's peer address as CONNECT checks read it.
import type { Client } from 'aedes';
import type { SessionView } from '../core/topic-access.ts';
import type { Transport } from '../core/types.ts';
import type { LiveSession } from './sessions.ts';

export interface ClientInfo {
  transport: Transport;
  session?: LiveSession;
  /** The session as the topic checks see it; made once at CONNECT, its rules read live. */
  view?: SessionView;
}

// Kept beside the Client, not on it: a property added to aedes' Client object after its
// constructor gave every connection a ~450-byte property store (issue 17 item 4).
const INFO = new WeakMap<Client, ClientInfo>();

export function setClientInfo(client: Client, info: ClientInfo): void {
  INFO.set(client, info);
}

export function infoOf(client: Client): ClientInfo {
  let info = INFO.get(client);
  if (!info) INFO.set(client, (info = { transport: 'tcp' }));
  return info;
}

/** The socket peer and, over WebSocket, the X-Forwarded-For header (docs/design.md §6). */
export function peerOf(client: Client, transport: Transport): { peer: string; forwardedFor?: string | string[] } {
  if (transport === 'ws' && client.req) {
    const xff = client.req.headers['x-forwarded-for'];
    return { peer: client.req.socket.remoteAddress ?? '', ...(xff !== undefined ? { forwardedFor: xff } : {}) };
  }
  return { peer: (client.conn as { remoteAddress?: string }).remoteAddress ?? '' };
}

export const joinHeader = (h: string | string[] | undefined): string | undefined =>
  Array.isArray(h) ? h.join(', ') : h;
