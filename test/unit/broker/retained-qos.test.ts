import type { AedesPublishPacket } from 'aedes';
import { describe, expect, it } from 'vitest';
import { deliveryQos, grantedQos } from '../../../src-main/broker/retained-qos.ts';

const pkt = (topic: string, qos: 0 | 1 | 2, retain = false): AedesPublishPacket =>
  ({ cmd: 'publish', topic, qos, retain, dup: false, payload: Buffer.alloc(0) }) as unknown as AedesPublishPacket;

describe('grantedQos', () => {
  it('takes the exact filter, then the best matching wildcard', () => {
    expect(grantedQos({ 'a/b': { qos: 1 } }, 'a/b', 2)).toBe(1);
    expect(grantedQos({ 'a/#': { qos: 0 }, 'a/+': { qos: 1 } }, 'a/b', 2)).toBe(1);
    expect(grantedQos({ 'x/#': { qos: 2 } }, 'a/b', 2)).toBe(-1);
  });
  it('a wildcard first level never matches a $ topic [MQTT-4.7.2-1]', () => {
    expect(grantedQos({ '#': { qos: 2 } }, '$SYS/x', 2)).toBe(-1);
  });
});

describe('deliveryQos', () => {
  const clean = { clean: true };
  const persistent = { clean: false };
  it('is min(published, granted) [MQTT-3.8.4-6]', () => {
    expect(deliveryQos(clean, { 'a/#': { qos: 1 } }, pkt('a/b', 2))).toBe(1);
    expect(deliveryQos(clean, { 'a/#': { qos: 0 } }, pkt('a/b', 1, true))).toBe(0);
    expect(deliveryQos(clean, { 'a/#': { qos: 2 } }, pkt('a/b', 1))).toBe(1);
    expect(deliveryQos(clean, { 'a/#': { qos: 2 } }, pkt('a/b', 2, true))).toBe(2);
  });
  it('caps a retained QoS 2 message to a persistent session at QoS 1 (aedes cannot track it)', () => {
    expect(deliveryQos(persistent, { 'a/#': { qos: 2 } }, pkt('a/b', 2, true))).toBe(1);
    expect(deliveryQos(persistent, { 'a/#': { qos: 2 } }, pkt('a/b', 2, false))).toBe(2);
  });
  it('keeps the QoS when no filter matches (aedes picked the subscription)', () => {
    expect(deliveryQos(clean, {}, pkt('a/b', 1))).toBe(1);
  });
});
