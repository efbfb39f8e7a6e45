// The effective client address of a connection (docs/design.md §6).
//
// - The direct peer is normalised (`::ffff:10.0.0.1` → `10.0.0.1`, zone ids stripped: the OS
//   reports link-local peers that way).
// - `X-Forwarded-For` is honoured only when the direct peer is a trusted proxy; from any other
//   peer the header is ignored entirely, so it cannot be used to spoof an address.
// - From a trusted peer the header is walked from the RIGHT, skipping trusted proxies; the first
//   untrusted entry is the client. If every entry is trusted, the leftmost entry is the client.
// - Several header values (Node gives an array) are joined with ',' in order.
// - Entries are trimmed and may carry a port: `1.2.3.4:5678`, `[2001:db8::1]:443`, `[::1]`.
// - Fail closed: if ANY entry of the header is empty or not an IP address (not only the ones the
//   walk would examine), the result is `address.malformed`. An empty header value counts as one
//   empty entry; an absent header (undefined or []) means "no header". A zone id in an entry
//   (`::ffff:10.0.0.5%eth0`, `[fe80::1%eth0]:443`) is malformed too: it is never stripped there.

import { parseAddressEntry, parseBareIp, parseIp, ipInEntry } from './addresses.ts';
import type { AddressEntry, IpAddress } from './addresses.ts';

/** The product default: loopback only, so local demos can set X-Forwarded-For freely. */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = Object.freeze(['127.0.0.0/8', '::1/128']);

/** A parsed trusted-proxy list (single IPs or CIDR blocks, v4 or v6). */
export interface TrustedProxies {
  readonly entries: readonly AddressEntry[];
  /** The entries' texts, as given (trimmed). */
  readonly texts: readonly string[];
}

export type EffectiveAddress =
  | { ok: true; address: string; via: 'peer' | 'x-forwarded-for' }
  | { ok: false; reason: 'address.malformed'; rule: string };

/** Parses a trusted-proxy list; throws an Error naming the first invalid entry. */
export function parseTrustedProxies(list: readonly string[]): TrustedProxies {
  const entries: AddressEntry[] = [];
  for (const text of list) {
    const parsed = parseAddressEntry(text);
    if (!parsed.ok) throw new Error(`Invalid trusted proxy: ${parsed.message}`);
    entries.push(parsed.entry);
  }
  return { entries, texts: entries.map((e) => e.text) };
}

function isTrusted(ip: IpAddress, trusted: TrustedProxies): boolean {
  return trusted.entries.some((entry) => ipInEntry(ip, entry));
}

/** Whether an address (any form `normaliseAddress` accepts) is a trusted proxy. */
export function isTrustedProxy(address: string, trusted: TrustedProxies): boolean {
  const ip = parseIp(address);
  return ip !== null && isTrusted(ip, trusted);
}

const quote = (text: string): string => JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);

function isPort(text: string): boolean {
  if (text === '' || text.length > 5) return false;
  for (const ch of text) if (ch < '0' || ch > '9') return false;
  return Number(text) <= 65535;
}

/** One forwarded-for entry (already trimmed) → IP, with an optional port stripped. */
function parseForwardedEntry(text: string): IpAddress | null {
  if (text.startsWith('[')) {
    // `[v6]` or `[v6]:port`
    const close = text.indexOf(']');
    if (close < 0) return null;
    const host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (!host.includes(':')) return null;
    if (rest !== '' && !(rest.startsWith(':') && isPort(rest.slice(1)))) return null;
    return parseBareIp(host);
  }
  const firstColon = text.indexOf(':');
  if (firstColon >= 0 && firstColon === text.lastIndexOf(':')) {
    // Exactly one colon: `v4:port` (a bare IPv6 address always has at least two colons).
    const host = text.slice(0, firstColon);
    if (host.includes(':') || !isPort(text.slice(firstColon + 1))) return null;
    return parseBareIp(host);
  }
  return parseBareIp(text);
}

/**
 * The address a connection's restrictions are checked against. `peer` is the socket's remote
 * address; `forwardedFor` the raw `X-Forwarded-For` header (WebSocket upgrades only).
 */
// Every CONNECT starts here, and the same few peer addresses connect again and again (a fleet
// behind one NAT, every local simulator on 127.0.0.1): parse and print each one once. Bounded.
const peerCache = new Map<string, { ip: IpAddress; text: string } | null>();

function parsePeer(peer: string): { ip: IpAddress; text: string } | null {
  let parsed = peerCache.get(peer);
  if (parsed === undefined) {
    const ip = parseIp(peer);
    parsed = ip === null ? null : { ip, text: ip.toString() };
    if (peerCache.size >= 4096) peerCache.clear();
    peerCache.set(peer, parsed);
  }
  return parsed;
}

export function effectiveClientAddress(
  peer: string,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): EffectiveAddress {
  const parsedPeer = parsePeer(peer);
  if (parsedPeer === null) {
    return { ok: false, reason: 'address.malformed', rule: `peer address ${quote(peer)} is not an IP address` };
  }
  const peerIp = parsedPeer.ip;
  const peerResult: EffectiveAddress = { ok: true, address: parsedPeer.text, via: 'peer' };
  if (forwardedFor === undefined) return peerResult;
  if (Array.isArray(forwardedFor) && forwardedFor.length === 0) return peerResult;
  if (!isTrusted(peerIp, trusted)) return peerResult;

  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const ips: IpAddress[] = [];
  for (const raw of header.split(',')) {
    const text = raw.trim();
    const ip = parseForwardedEntry(text);
    if (ip === null) {
      const why = text.includes('%')
        ? 'has a zone id (%…), which is refused in forwarded addresses'
        : 'is not an IP address';
      return { ok: false, reason: 'address.malformed', rule: `X-Forwarded-For entry ${quote(text)} ${why}` };
    }
    ips.push(ip);
  }
  for (let i = ips.length - 1; i >= 0; i--) {
    const ip = ips[i];
    if (ip !== undefined && !isTrusted(ip, trusted)) {
      return { ok: true, address: ip.toString(), via: 'x-forwarded-for' };
    }
  }
  // Every entry is a trusted proxy: the leftmost one is the client.
  const leftmost = ips[0];
  if (leftmost === undefined) return peerResult; // unreachable: split() yields at least one entry
  return { ok: true, address: leftmost.toString(), via: 'x-forwarded-for' };
}
