// A message the broker saw, as the Messages view shows it (docs/design.md §8a), and the pure
// helpers that turn its payload into text, pretty JSON or hex. Payloads are data: these helpers
// return strings for text nodes, never markup. Node-free: the renderer imports this file.
import type { DecisionEvent } from './decision-event.ts';
import type { Transport } from './types.ts';

/** At most this many payload bytes are kept per message; `size` is always the whole size. */
export const PAYLOAD_KEEP_BYTES = 8192;

export interface TappedMessage {
  /** Grows by one per message the tap sees (one sequence for the whole process). */
  seq: number;
  time: string;
  topic: string;
  /** Base64 of the first `PAYLOAD_KEEP_BYTES` bytes of the payload. */
  payload: string;
  /** The whole payload's size in bytes. */
  size: number;
  truncated: boolean;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** `device`: a client's PUBLISH (checked against its key); `platform`: published by Keyport itself. */
  origin: 'device' | 'platform';
  deviceId?: string;
  keyId?: string;
  transport?: Transport;
  /** The broker's decision on this PUBLISH (an entry of the decision feed); none for the platform. */
  decision?: Pick<DecisionEvent, 'seq' | 'result' | 'reason' | 'rule'>;
  /** false: refused, so delivered to nobody. */
  delivered: boolean;
}

/** A filter the Messages view (or the device page) watches as the platform. */
export interface MessageSubscription {
  id: string;
  filter: string;
  /** Only messages of this device: published by it, or on its `losant/{id}/…` topics. */
  deviceId?: string;
  /** Messages kept for it on the server (its ring's size). */
  capacity: number;
  /** Payload bytes kept per message. */
  payloadKeep: number;
}

/** A message in a `messages` event batch, with the subscriptions whose filter it matched. */
export interface MessageDelivery extends TappedMessage {
  subscriptions: string[];
}

/** The bytes of a base64 string (atob exists in browsers and in Node 16+). */
export function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The payload as UTF-8 text, or null when it is not valid UTF-8 (a truncated tail is tolerated). */
export function payloadText(bytes: Uint8Array, truncated = false): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(truncated ? cutPartialUtf8(bytes) : bytes);
  } catch {
    return null;
  }
}

/** Drops an incomplete UTF-8 sequence at the end (where a truncated payload was cut). */
function cutPartialUtf8(bytes: Uint8Array): Uint8Array {
  let i = bytes.length - 1;
  let back = 0;
  while (i >= 0 && back < 3 && (bytes[i]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return bytes;
  const lead = bytes[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > back + 1 ? bytes.subarray(0, i) : bytes;
}

/** Pretty-printed JSON (2 spaces), or null when the text is not one JSON document. */
export function prettyJson(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text) as unknown, null, 2);
  } catch {
    return null;
  }
}

/** A hex dump: offset, 16 bytes in hex, and their printable ASCII, one line per 16 bytes. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

export type PayloadMode = 'pretty' | 'raw' | 'hex';

/**
 * The payload as the view shows it. `pretty` falls back to raw text when it is not JSON, and raw
 * falls back to hex when it is not UTF-8; `shown` says which one it became.
 */
export function formatPayload(
  bytes: Uint8Array,
  mode: PayloadMode,
  truncated = false,
): { text: string; shown: PayloadMode } {
  if (mode === 'hex') return { text: hexDump(bytes), shown: 'hex' };
  const text = payloadText(bytes, truncated);
  if (text === null) return { text: hexDump(bytes), shown: 'hex' };
  if (mode === 'pretty' && !truncated) {
    const pretty = prettyJson(text);
    if (pretty !== null) return { text: pretty, shown: 'pretty' };
  }
  return { text, shown: 'raw' };
}

/** "512 B", "8.0 KiB", "1.2 MiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
