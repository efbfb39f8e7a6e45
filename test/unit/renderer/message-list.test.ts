// src-renderer/components/messages/message-list.ts: the Messages view's bounded, searchable list.
import { describe, expect, it } from 'vitest';
import type { MessageDelivery } from '../../../src-main/core/message.ts';
import {
  appendMessages,
  messageMatches,
  preview,
  PREVIEW_CHARS,
} from '../../../src-renderer/components/messages/message-list.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const msg = (seq: number, topic: string, payload: string, subs = ['s1']): MessageDelivery => ({
  seq,
  time: '2026-01-01T00:00:00.000Z',
  topic,
  payload: b64(payload),
  size: Buffer.byteLength(payload),
  truncated: false,
  qos: 0,
  retain: false,
  origin: 'platform',
  delivered: true,
  subscriptions: subs,
});

describe('appendMessages', () => {
  it("appends only this subscription's new messages and keeps the newest `max`", () => {
    let list = appendMessages([], [msg(1, 'a', '1'), msg(2, 'b', '2', ['other'])], 's1');
    expect(list.map((m) => m.seq)).toEqual([1]);
    expect(list[0]).not.toHaveProperty('subscriptions');
    list = appendMessages(list, [msg(1, 'a', '1'), msg(3, 'a', '3'), msg(4, 'a', '4')], 's1', 2);
    expect(list.map((m) => m.seq)).toEqual([3, 4]);
  });
});

describe('search and preview', () => {
  it('matches topic or payload text, case-insensitively', () => {
    const m = msg(1, 'sensors/Temp', '{"value":21.5}');
    expect(messageMatches(m, 'temp')).toBe(true);
    expect(messageMatches(m, '21.5')).toBe(true);
    expect(messageMatches(m, 'humidity')).toBe(false);
    expect(messageMatches(m, '  ')).toBe(true);
  });
  it('previews one line, cut with an ellipsis; binary says so', () => {
    const long = msg(1, 't', '{\n  "a": "' + 'x'.repeat(400) + '"\n}');
    const p = preview(long);
    expect(p.length).toBe(PREVIEW_CHARS + 1);
    expect(p.endsWith('…')).toBe(true);
    expect(p).not.toContain('\n');
    const bin = { ...msg(2, 't', ''), payload: Buffer.from([0xff, 0xfe]).toString('base64'), size: 2 };
    expect(preview(bin)).toBe('(binary, 2 bytes)');
  });
});
