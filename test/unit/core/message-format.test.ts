// core/message.ts: how the Messages view shows a payload (docs/design.md §8a).
import { describe, expect, it } from 'vitest';
import { base64Bytes, formatBytes, formatPayload, hexDump, payloadText } from '../../../src-main/core/message.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('formatPayload', () => {
  it('pretty-prints JSON, keeps raw text as sent, falls back to hex for binary', () => {
    expect(formatPayload(bytes('{"a":1,"b":[2]}'), 'pretty')).toEqual({
      text: '{\n  "a": 1,\n  "b": [\n    2\n  ]\n}',
      shown: 'pretty',
    });
    expect(formatPayload(bytes('{"a":1}'), 'raw')).toEqual({ text: '{"a":1}', shown: 'raw' });
    expect(formatPayload(bytes('not json'), 'pretty')).toEqual({ text: 'not json', shown: 'raw' });
    expect(formatPayload(new Uint8Array([0xff, 0x00]), 'raw').shown).toBe('hex');
  });

  it('a payload cut inside a UTF-8 sequence is still text, and is not pretty-printed', () => {
    const cut = bytes('{"t":"é').subarray(0, 7); // the 2-byte é cut after its first byte
    expect(payloadText(cut)).toBeNull();
    expect(payloadText(cut, true)).toBe('{"t":"');
    expect(formatPayload(cut, 'pretty', true)).toEqual({ text: '{"t":"', shown: 'raw' });
  });

  it('markup stays text: the helpers return the characters as sent', () => {
    expect(formatPayload(bytes('<img src=x onerror=alert(1)>'), 'pretty').text).toBe('<img src=x onerror=alert(1)>');
  });
});

describe('hexDump and sizes', () => {
  it('prints offset, hex and ASCII per 16 bytes', () => {
    const dump = hexDump(bytes('0123456789abcdefXY\n'));
    expect(dump.split('\n')).toEqual([
      '00000000  30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66  0123456789abcdef',
      '00000010  58 59 0a                                         XY.',
    ]);
  });
  it('decodes base64 and names sizes', () => {
    expect(Array.from(base64Bytes('AAH/'))).toEqual([0, 1, 255]);
    expect([formatBytes(512), formatBytes(8192), formatBytes(3 * 1024 * 1024)]).toEqual([
      '512 B',
      '8.0 KiB',
      '3.0 MiB',
    ]);
  });
});
