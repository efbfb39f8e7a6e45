import { describe, expect, it } from 'vitest';
import type { BrokerMessage } from '../../../src-main/broker/message-sink.ts';
import { MessageTap } from '../../../src-main/service/message-tap.ts';

const msg = (topic: string, payload: string, seq?: number): BrokerMessage => ({
  topic,
  payload: Buffer.from(payload),
  qos: 0,
  retain: false,
  origin: 'device',
  deviceId: 'd1',
  delivered: true,
  ...(seq !== undefined
    ? {
        decision: {
          seq,
          time: '',
          transport: 'tcp',
          action: 'publish',
          result: 'allowed',
          reason: 'publish.allowed',
          rule: `rule ${seq}`,
        },
      }
    : {}),
});
const text = (b64: string) => Buffer.from(b64, 'base64').toString();

describe('MessageTap recent ring (slots reused in place)', () => {
  it('a new subscription gets the last `recent` messages, each with its own payload and decision, after the ring wrapped', () => {
    const tap = new MessageTap({ recent: 3 });
    const payloads = ['a', 'a much longer payload than the first slot buffer holds '.repeat(5), 'c', 'dd', 'e'];
    payloads.forEach((p, i) => tap.tap(msg(`t/${i}`, p, i + 1)));
    const { messages } = tap.subscribe('t/#');
    expect(messages.map((m) => [m.topic, text(m.payload), m.size, m.decision?.seq, m.decision?.rule])).toEqual(
      [2, 3, 4].map((i) => [`t/${i}`, payloads[i], Buffer.byteLength(payloads[i] as string), i + 1, `rule ${i + 1}`]),
    );
    expect(messages.map((m) => m.seq)).toEqual([3, 4, 5]);
  });

  it('what a subscription kept is not changed when its slot is overwritten; a platform message has no decision', () => {
    const tap = new MessageTap({ recent: 2 });
    const sub = tap.subscribe('x/#').subscription;
    tap.tap(msg('x/1', 'first payload', 7));
    tap.tap({ ...msg('x/2', 'second'), origin: 'platform' });
    for (let i = 0; i < 5; i++) tap.tap(msg('y/z', `overwrite ${i} with something longer`, 10 + i));
    const kept = tap.list(sub.id);
    expect(kept.map((m) => [m.topic, text(m.payload), m.decision?.seq, m.origin])).toEqual([
      ['x/1', 'first payload', 7, 'device'],
      ['x/2', 'second', undefined, 'platform'],
    ]);
    expect('decision' in (kept[1] as object)).toBe(false);
  });
});
