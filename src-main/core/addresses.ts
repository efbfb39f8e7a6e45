// Address restrictions of an access key (docs/design.md §2, §6): parsing, validation and matching of
// `addresses` entries (single IPs or CIDR blocks, IPv4 and IPv6) against a client address.
// All IP parsing and matching goes through ipaddr.js; nothing here uses regexes on addresses.
//
// Choices (documented in the README):
// - Entries are trimmed before parsing; inner whitespace is an error.
// - IPv4 must be four decimal parts 0-255 without leading zeros: `010.1.1.1`, `1.2.3`, `0x7f.0.0.1`
//   (which ipaddr.js would otherwise read as octal/short/hex forms) are rejected as ambiguous.
// - IPv4-mapped IPv6 (`::ffff:10.0.0.1`, `::ffff:10.0.0.0/104`) is normalised to IPv4 (prefix − 96),
//   for entries and client addresses alike. After that, an IPv4 address never matches an IPv6
//   entry and vice versa (`::/0` does not match IPv4 clients; `0.0.0.0/0` does not match IPv6).
// - The deprecated IPv4-compatible form `::a.b.c.d` is rejected (ipaddr.js would read it as mapped).
// - CIDR blocks may have host bits set (`10.0.0.1/8` means `10.0.0.0/8`); the prefix is decimal
//   without leading zeros. Zone ids (`fe80::1%eth0`) are not allowed in entries; a client address
//   with a zone id has it stripped (Node reports link-local peers that way).

import ipaddr from 'ipaddr.js';
import { ADDRESS_FILTER_TYPES, allow, deny } from './types.ts';
import type { AddressFilterType, Decision, FieldError } from './types.ts';

export const MAX_ADDRESSES = 100;

/** Longest text we try to parse as an address or entry (a full IPv6 CIDR is 43 characters). */
const MAX_TEXT_LENGTH = 100;

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** A parsed `addresses` entry. `text` is the (trimmed) text it was parsed from. */
export type AddressEntry =
  | { kind: 'ip'; family: 'ipv4' | 'ipv6'; address: IpAddress; text: string }
  | { kind: 'cidr'; family: 'ipv4' | 'ipv6'; range: [IpAddress, number]; text: string };

type IpParse = { ok: true; ip: IpAddress } | { ok: false; message: string };

const quote = (text: string): string => JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);

function hasWhitespace(text: string): boolean {
  for (const ch of text) if (ch.trim() === '') return true;
  return false;
}

/**
 * Strict parse of one bare address (no prefix, no zone id). IPv4-mapped IPv6 comes back as IPv4.
 */
function parseStrictIp(text: string): IpParse {
  if (text === '') return { ok: false, message: 'empty' };
  if (text.length > MAX_TEXT_LENGTH) return { ok: false, message: 'too long' };
  if (hasWhitespace(text)) return { ok: false, message: 'contains whitespace' };
  if (!text.includes(':')) {
    if (ipaddr.IPv4.isValidFourPartDecimal(text)) return { ok: true, ip: ipaddr.IPv4.parse(text) };
    if (ipaddr.IPv4.isValid(text)) {
      return {
        ok: false,
        message: 'IPv4 addresses must be four decimal numbers 0-255 without leading zeros',
      };
    }
    return { ok: false, message: 'not an IPv4 or IPv6 address' };
  }
  if (text.includes('%')) return { ok: false, message: 'zone ids (%...) are not allowed' };
  if (!ipaddr.IPv6.isValid(text)) return { ok: false, message: 'not an IPv4 or IPv6 address' };
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    // Embedded IPv4 tail (`::ffff:10.0.0.1`): hold it to the same strict IPv4 rule.
    if (!ipaddr.IPv4.isValidFourPartDecimal(text.slice(lastColon + 1))) {
      return {
        ok: false,
        message: 'IPv4 addresses must be four decimal numbers 0-255 without leading zeros',
      };
    }
    if (text.startsWith('::') && lastColon === 1) {
      return { ok: false, message: 'IPv4-compatible IPv6 (::a.b.c.d) is deprecated; use ::ffff:a.b.c.d' };
    }
  }
  const v6 = ipaddr.IPv6.parse(text);
  return { ok: true, ip: v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6 };
}

function parsePrefix(text: string): number | null {
  if (text === '' || text.length > 3 || (text.length > 1 && text.startsWith('0'))) return null;
  for (const ch of text) if (ch < '0' || ch > '9') return null;
  return Number(text);
}

/**
 * Parses one `addresses` entry: a single IPv4/IPv6 address or a CIDR block (v4 prefix 0-32,
 * v6 0-128). The text is trimmed first. IPv4-mapped IPv6 entries become IPv4 entries.
 */
export function parseAddressEntry(text: string): { ok: true; entry: AddressEntry } | { ok: false; message: string } {
  const trimmed = text.trim();
  const fail = (why: string) => ({
    ok: false as const,
    message: `${quote(trimmed)} is not a valid IP address or CIDR block: ${why}`,
  });
  const slash = trimmed.indexOf('/');
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const parsed = parseStrictIp(addressText);
  if (!parsed.ok) return fail(parsed.message);
  const family = parsed.ip.kind();
  if (slash < 0) return { ok: true, entry: { kind: 'ip', family, address: parsed.ip, text: trimmed } };

  const max = addressText.includes(':') ? 128 : 32;
  const prefixText = trimmed.slice(slash + 1);
  const prefix = parsePrefix(prefixText);
  if (prefix === null || prefix > max) {
    return fail(`prefix must be 0-${max} for ${max === 32 ? 'IPv4' : 'IPv6'}`);
  }
  if (max === 128 && family === 'ipv4') {
    // IPv4-mapped block: only a /96 or longer lies wholly inside ::ffff:0:0/96.
    if (prefix >= 96) {
      return { ok: true, entry: { kind: 'cidr', family, range: [parsed.ip, prefix - 96], text: trimmed } };
    }
    const v6 = (parsed.ip as ipaddr.IPv4).toIPv4MappedAddress();
    return { ok: true, entry: { kind: 'cidr', family: 'ipv6', range: [v6, prefix], text: trimmed } };
  }
  return { ok: true, entry: { kind: 'cidr', family, range: [parsed.ip, prefix], text: trimmed } };
}

/**
 * Parses a client address: IPv4 or IPv6, a zone id (`%eth0`) stripped, IPv4-mapped IPv6
 * normalised to IPv4. Null if it is not an IP address. Same strictness as entries.
 */
export function parseIp(text: string): IpAddress | null {
  let bare = text;
  const zone = text.indexOf('%');
  if (zone >= 0) {
    if (zone === text.length - 1 || !text.slice(0, zone).includes(':')) return null;
    bare = text.slice(0, zone);
  }
  const parsed = parseStrictIp(bare);
  return parsed.ok ? parsed.ip : null;
}

/**
 * Parses an address written by someone else (an X-Forwarded-For entry): like parseIp, but a zone
 * id is refused rather than stripped. A zone (`fe80::1%eth0`) only means something on the host
 * that wrote it, and `::ffff:10.0.0.5%eth0` is not a form any proxy emits; reading it as 10.0.0.5
 * would let odd input pass an address rule, so it fails closed (issue 12).
 */
export function parseBareIp(text: string): IpAddress | null {
  if (text.includes('%')) return null;
  const parsed = parseStrictIp(text);
  return parsed.ok ? parsed.ip : null;
}

/**
 * Canonical form of a client address (`::ffff:127.0.0.1` → `127.0.0.1`, IPv6 compacted, zone
 * id stripped), or null if it is not an IP address.
 */
export function normaliseAddress(text: string): string | null {
  const ip = parseIp(text);
  return ip === null ? null : ip.toString();
}

/** Whether a parsed IP lies in an entry. Different families never match. */
export function ipInEntry(ip: IpAddress, entry: AddressEntry): boolean {
  if (ip.kind() !== entry.family) return false;
  if (entry.kind === 'ip') return ip.match(entry.address, entry.family === 'ipv4' ? 32 : 128);
  return ip.match(entry.range);
}

/** Whether a client address (normalised or not) lies in an entry; false if it is not an IP. */
export function addressInEntry(address: string, entry: AddressEntry): boolean {
  const ip = parseIp(address);
  return ip !== null && ipInEntry(ip, entry);
}

/** Validates `addressFilterType` + `addresses` as given to create/update. Undefined addresses = []. */
export function validateAddresses(filterType: unknown, addresses: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const typeOk = typeof filterType === 'string' && (ADDRESS_FILTER_TYPES as readonly string[]).includes(filterType);
  if (!typeOk) {
    errors.push({
      field: 'addressFilterType',
      message: `addressFilterType must be one of ${ADDRESS_FILTER_TYPES.join(', ')}`,
    });
  }
  const list = addresses === undefined ? [] : addresses;
  if (!Array.isArray(list)) {
    errors.push({ field: 'addresses', message: 'addresses must be an array of IP addresses or CIDR blocks' });
    return errors;
  }
  if (list.length > MAX_ADDRESSES) {
    errors.push({
      field: 'addresses',
      message: `addresses may hold at most ${MAX_ADDRESSES} entries (got ${list.length})`,
    });
  }
  list.forEach((item: unknown, i) => {
    if (typeof item !== 'string') {
      errors.push({ field: `addresses[${i}]`, message: 'each address must be a string' });
      return;
    }
    const parsed = parseAddressEntry(item);
    if (!parsed.ok) errors.push({ field: `addresses[${i}]`, message: parsed.message });
  });
  if (typeOk) {
    if (filterType === 'all' && list.length > 0) {
      errors.push({ field: 'addresses', message: 'addresses must be empty when addressFilterType is all' });
    } else if (filterType !== 'all' && list.length === 0) {
      errors.push({
        field: 'addresses',
        message: `addresses must list at least one IP address or CIDR block when addressFilterType is ${filterType}`,
      });
    }
  }
  return errors;
}

interface ParsedList {
  texts: readonly string[];
  entries: AddressEntry[];
  /** Texts that failed to parse (only possible for data that bypassed validation). */
  invalid: string[];
}

const cache = new WeakMap<readonly string[], ParsedList>();

function parsedList(addresses: readonly string[]): ParsedList {
  const hit = cache.get(addresses);
  // Guard against in-place mutation of a cached array: same length and same strings.
  if (hit && hit.texts.length === addresses.length && hit.texts.every((t, i) => t === addresses[i])) {
    return hit;
  }
  const list: ParsedList = { texts: [...addresses], entries: [], invalid: [] };
  for (const text of addresses) {
    const parsed = parseAddressEntry(text);
    if (parsed.ok) list.entries.push(parsed.entry);
    else list.invalid.push(text);
  }
  cache.set(addresses, list);
  return list;
}

/**
 * The CONNECT address check (docs/design.md §4, §6). `all` allows without looking at the address.
 * An unparseable client address denies with `address.malformed`. Invalid stored entries
 * (which validation rejects at save) never match a whitelist and make a blacklist deny
 * (fail closed). Parsed entries are cached per `addresses` array.
 */
export function addressDecision(
  filterType: AddressFilterType,
  addresses: readonly string[],
  clientAddress: string,
): Decision {
  if (filterType === 'all') return allow('connect.accepted', 'addressFilterType all');
  const ip = parseIp(clientAddress);
  if (ip === null) {
    return deny('address.malformed', `client address ${quote(clientAddress)} is not an IP address`);
  }
  const list = parsedList(addresses);
  const match = list.entries.find((entry) => ipInEntry(ip, entry));
  if (filterType === 'whitelist') {
    return match
      ? allow('connect.accepted', `addresses whitelist entry ${quote(match.text)}`)
      : deny('address.denied', 'not in addresses whitelist');
  }
  if (match) return deny('address.denied', `addresses blacklist entry ${quote(match.text)}`);
  const bad = list.invalid[0];
  if (bad !== undefined) {
    return deny('address.denied', `addresses blacklist entry ${quote(bad)} is invalid (fail closed)`);
  }
  return allow('connect.accepted', 'not in addresses blacklist');
}
