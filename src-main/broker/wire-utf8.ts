// UTF-8 well-formedness of the raw bytes of an MQTT string, checked before anything decodes them
// (mqtt-packet decodes with replacement characters, so after decoding the damage is invisible).
// [MQTT-1.5.3-1]: the data MUST be well-formed UTF-8 as defined by Unicode / RFC 3629, and in
// particular MUST NOT encode U+D800..U+DFFF; [MQTT-1.5.3-2]: it MUST NOT include U+0000. Both
// say the receiver MUST close the network connection. Pure functions over bytes.

/** What is wrong with a byte string, and where (offset from the start of the string). */
export interface Utf8Problem {
  offset: number;
  /** The offending bytes in hex, e.g. "C3 28". */
  bytes: string;
  why: string;
}

const hex = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

/**
 * Offset (from `start`) of the first byte that makes buf[start, end) ill-formed, or -1 when it
 * is well-formed and has no U+0000. ASCII is the fast path: one compare per byte; nothing is
 * allocated unless a problem is found.
 */
export function firstBadUtf8(buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end;) {
    const b = buf[i] as number;
    if (b !== 0 && b < 0x80) {
      i++;
      continue;
    }
    const n = wellFormedLength(buf, i, end);
    if (n === 0) return i - start;
    i += n;
  }
  return -1;
}

/** The problem in buf[start, end), or null when it is well-formed UTF-8 without U+0000. */
export function describeBadUtf8(buf: Uint8Array, start: number, end: number): Utf8Problem | null {
  const at = firstBadUtf8(buf, start, end);
  if (at < 0) return null;
  return { offset: at, ...describeAt(buf, start + at, end) };
}

/**
 * Length of the well-formed sequence at buf[i] (RFC 3629 section 4's table), or 0 when it is
 * ill-formed or U+0000. The allowed range of the SECOND byte depends on the lead: that is what
 * rules out overlongs (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
 */
function wellFormedLength(buf: Uint8Array, i: number, end: number): number {
  const b = buf[i] as number;
  if (b < 0x80) return b === 0 ? 0 : 1;
  if (b < 0xc2 || b > 0xf4) return 0;
  const n = b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
  if (i + n > end) return 0;
  const c = buf[i + 1] as number;
  const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
  const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
  if (c < lo || c > hi) return 0;
  for (let k = 2; k < n; k++) {
    const d = buf[i + k] as number;
    if (d < 0x80 || d > 0xbf) return 0;
  }
  return n;
}

/** Why the sequence at buf[i] is ill-formed (only called once wellFormedLength said so). */
function describeAt(buf: Uint8Array, i: number, end: number): Omit<Utf8Problem, 'offset'> {
  const b = buf[i] as number;
  const span = (n: number): string => {
    const out: string[] = [];
    for (let k = 0; k < n && i + k < end; k++) out.push(hex(buf[i + k] as number));
    return out.join(' ');
  };
  if (b === 0) return { bytes: '00', why: 'null character U+0000 [MQTT-1.5.3-2]' };
  if (b >= 0x80 && b <= 0xbf) return { bytes: hex(b), why: 'continuation byte without a lead byte' };
  if (b === 0xc0 || b === 0xc1) {
    const c = i + 1 < end ? (buf[i + 1] as number) : -1;
    const overlong = c >= 0x80 && c <= 0xbf;
    const cp = overlong ? (((b & 1) << 6) | (c & 0x3f)).toString(16).toUpperCase().padStart(4, '0') : '';
    return { bytes: span(2), why: overlong ? `overlong encoding of U+${cp}` : 'overlong lead byte' };
  }
  if (b >= 0xf5) return { bytes: hex(b), why: 'byte never used in UTF-8' };
  const n = b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
  for (let k = 1; k < n; k++) {
    if (i + k >= end) return { bytes: span(k), why: `truncated ${n}-byte sequence` };
    const c = buf[i + k] as number;
    if (c < 0x80 || c > 0xbf) return { bytes: span(k + 1), why: 'invalid continuation byte' };
  }
  // Continuations are all in 80..BF, so the second byte is outside its narrower range.
  const why =
    b === 0xe0
      ? 'overlong encoding (3 bytes for a code point below U+0800)'
      : b === 0xed
        ? 'UTF-16 surrogate (CESU-8), U+D800..U+DFFF are not allowed [MQTT-1.5.3-1]'
        : b === 0xf0
          ? 'overlong encoding (4 bytes for a code point below U+10000)'
          : 'code point above U+10FFFF';
  return { bytes: span(n), why };
}

/** "C3 28 at byte 3: invalid continuation byte" */
export function formatUtf8Problem(p: Utf8Problem): string {
  return `${p.bytes} at byte ${p.offset}: ${p.why}`;
}

/** The string for humans: well-formed prefix, the bad bytes as \xNN, then the rest (lossy). */
export function printableWithBadBytes(buf: Uint8Array, start: number, end: number, p: Utf8Problem): string {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const badLen = p.bytes.split(' ').length;
  const at = start + p.offset;
  const esc = p.bytes
    .split(' ')
    .map((x) => `\\x${x}`)
    .join('');
  return b.toString('utf8', start, at) + esc + b.toString('utf8', Math.min(at + badLen, end), end);
}
