// The one place Keyport reaches into aedes 1.2.0's private Client fields (pinned in
// package.json). Each accessor checks the field is there and throws naming it when an aedes
// upgrade moved it, so the wire guard and slow-consumer bound can never silently switch off.
// Issue 11's hook redesign is the place to replace these with public hooks if aedes grows them.
import type { Duplex } from 'node:stream';
import type { Client } from 'aedes';

type ParserListener = (this: PacketParser, arg: never) => void;

/** aedes' per-connection mqtt-packet parser: `client._parser` (lib/client.js). */
export interface PacketParser {
  parse(buf: Buffer): number;
  /** The CONNECT packet once parsed (mqtt-packet keeps it to read the protocol version). */
  settings?: { cmd?: string; password?: Buffer | undefined };
  rawListeners(event: 'packet' | 'error'): ParserListener[];
  on(event: 'packet' | 'error', fn: ParserListener): unknown;
  removeListener(event: 'packet' | 'error', fn: ParserListener): unknown;
  prependListener(event: 'packet' | 'error', fn: ParserListener): unknown;
}

/** Listeners run on the parser ahead of aedes' own (`this` = the parser); one pair per broker. */
export interface ParserHooks {
  packet: (this: PacketParser, packet: { cmd: string }) => void;
  /** mqtt-packet emits every refusal of the bytes it was given as 'error'. */
  error: (this: PacketParser, err: Error) => void;
}

/** Per hooks pair: its 'packet' hook folded with aedes' `enqueue`, its 'error' hook with aedes' re-emit. */
const FOLDED = new WeakMap<ParserHooks, { enqueue: ParserListener; packet: ParserListener; error: ParserListener }>();

/**
 * Runs `hooks` ahead of aedes' own parser listeners. aedes 1.2.0 gives each parser one 'packet'
 * listener, `enqueue` (one module function for every parser), and one 'error' listener,
 * `client.emit.bind(client, 'error')` (lib/client.js). Each is replaced by one function shared by
 * the broker's connections that calls the hook and then does what aedes' listener did, so a
 * connection holds no listener array per event, nor aedes' bound re-emit (~250 bytes per idle
 * connection, issue 17 item 4). A parser whose listeners are not that shape gets the hooks
 * prepended instead (same order, more memory).
 */
export function hookParser(parser: PacketParser, hooks: ParserHooks): void {
  const [enqueue, ...morePackets] = parser.rawListeners('packet');
  const [reemit, ...moreErrors] = parser.rawListeners('error');
  const client = (parser as { client?: { emit?: unknown } }).client;
  let f = FOLDED.get(hooks);
  const foldable =
    enqueue !== undefined &&
    morePackets.length === 0 &&
    (f === undefined || f.enqueue === enqueue) &&
    reemit !== undefined &&
    moreErrors.length === 0 &&
    reemit.name === 'bound emit' &&
    typeof client?.emit === 'function';
  if (!foldable) {
    parser.prependListener('error', hooks.error as ParserListener);
    parser.prependListener('packet', hooks.packet as ParserListener);
    return;
  }
  if (!f) {
    const aedesEnqueue = enqueue;
    f = {
      enqueue: aedesEnqueue,
      packet: function packet(this: PacketParser, p: { cmd: string }): void {
        hooks.packet.call(this, p);
        (aedesEnqueue as (this: PacketParser, p: { cmd: string }) => void).call(this, p);
      } as ParserListener,
      error: function error(this: PacketParser, err: Error): void {
        hooks.error.call(this, err);
        clientOfParser(this).emit('error', err);
      } as ParserListener,
    };
    FOLDED.set(hooks, f);
  }
  parser.removeListener('packet', enqueue);
  parser.on('packet', f.packet);
  parser.removeListener('error', reemit);
  parser.on('error', f.error);
}

/**
 * Drops the password from the CONNECT packet mqtt-packet keeps for the connection's life
 * (`parser.settings`), once aedes has handed it to authenticate: the device's secret then stays
 * in memory no longer than its check, and an idle connection no longer holds the read buffer the
 * password was a view of (~300 bytes, issue 17 item 4).
 */
export function forgetConnectPassword(client: Client): void {
  const settings = parserOf(client).settings;
  if (settings?.cmd === 'connect' && settings.password !== undefined) settings.password = undefined;
}

export function parserOf(client: Client): PacketParser {
  const p = (client as unknown as { _parser?: PacketParser })._parser;
  if (!p || typeof p.parse !== 'function' || typeof p.rawListeners !== 'function')
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
