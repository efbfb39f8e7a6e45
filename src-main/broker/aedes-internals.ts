// The one place Keyport reaches into aedes 1.2.0's private Client fields (pinned in
// package.json). Each accessor checks the field is there and throws naming it when an aedes
// upgrade moved it, so the wire guard and slow-consumer bound can never silently switch off.
// Issue 11's hook redesign is the place to replace these with public hooks if aedes grows them.
import type { Duplex } from 'node:stream';
import type { Client } from 'aedes';

/** aedes' per-connection mqtt-packet parser: `client._parser` (lib/client.js). */
export interface PacketParser {
  parse(buf: Buffer): number;
  prependListener(event: 'packet', fn: (packet: { cmd: string }) => void): unknown;
  /** mqtt-packet emits every refusal of the bytes it was given as 'error'. */
  prependListener(event: 'error', fn: (err: Error) => void): unknown;
}

export function parserOf(client: Client): PacketParser {
  const p = (client as unknown as { _parser?: PacketParser })._parser;
  if (!p || typeof p.parse !== 'function' || typeof p.prependListener !== 'function')
    throw new Error('aedes Client has no _parser.parse: the wire guard needs aedes 1.2.0 (see package.json)');
  return p;
}

/** The Client a parser belongs to: `parser.client`, set by aedes' Client constructor (lib/client.js). */
export function clientOfParser(parser: unknown): Client {
  const c = (parser as { client?: Client } | null)?.client;
  if (!c) throw new Error('aedes parser has no client: the parser listeners need aedes 1.2.0 (see package.json)');
  return c;
}

type DrainCallback = (err: Error | null, client: Client) => void;

/** Replaces `client.waitForDrain` (lib/client.js, called by lib/write.js) for this client. */
export function replaceWaitForDrain(client: Client, fn: (this: Client, cb: DrainCallback) => void): void {
  const c = client as unknown as { waitForDrain?: unknown };
  if (typeof c.waitForDrain !== 'function')
    throw new Error('aedes Client has no waitForDrain: the slow-consumer bound needs aedes 1.2.0');
  c.waitForDrain = fn;
}

/** The last will aedes read from CONNECT: `client._will` (lib/handlers/connect.js). */
export function willTopicOf(client: Client): string | undefined {
  return (client as unknown as { _will?: { topic?: string } })._will?.topic;
}

/** Whether the client sent DISCONNECT before its connection ended: `client._disconnected`. */
export function disconnectedCleanly(client: Client): boolean {
  return (client as unknown as { _disconnected?: boolean })._disconnected === true;
}

/** The connection's stream: typed as the listener's socket in aedes, a Duplex at run time. */
export function streamOf(client: Client): Duplex {
  return client.conn as unknown as Duplex;
}

/** The client's granted subscriptions by filter: `client.subscriptions` (lib/client.js). */
export function subscriptionsOf<T>(client: Client): T {
  return (client as unknown as { subscriptions: T }).subscriptions;
}
