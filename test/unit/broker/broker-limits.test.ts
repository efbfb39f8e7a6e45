import { describe, expect, it } from 'vitest';
import { DEFAULT_BROKER_LIMITS, resolveBrokerLimits } from '../../../src-main/broker/broker-limits.ts';

describe('resolveBrokerLimits', () => {
  it('defaults: 64 KiB before login, 256 KiB after, 5 s drain, 4 MiB queue, 100 filters, 20 decisions', () => {
    expect(resolveBrokerLimits()).toEqual({
      maxPacketBeforeConnect: 65_536,
      maxPacket: 262_144,
      drainTimeoutMs: 5_000,
      maxQueuedBytes: 4_194_304,
      maxFiltersPerSubscribe: 100,
      maxDecisionsPerPacket: 20,
    });
    expect(resolveBrokerLimits({})).toEqual(DEFAULT_BROKER_LIMITS);
  });
  it('a packet limit below the pre-login default lowers the pre-login cap with it', () => {
    expect(resolveBrokerLimits({ maxPacket: 4096, maxQueuedBytes: 8192 }).maxPacketBeforeConnect).toBe(4096);
  });
  it('refuses bad values naming the field', () => {
    expect(() => resolveBrokerLimits({ maxPacket: 1.5 })).toThrow(/maxPacket must be a whole number from 128/);
    expect(() => resolveBrokerLimits({ drainTimeoutMs: -1 })).toThrow(/drainTimeoutMs/);
    expect(() => resolveBrokerLimits({ maxPacketBeforeConnect: 300_000 })).toThrow(/must not exceed maxPacket/);
    expect(() => resolveBrokerLimits({ maxQueuedBytes: 2048 })).toThrow(/maxQueuedBytes \(2048\) must be at least/);
    expect(() => resolveBrokerLimits({ bogus: 1 } as never)).toThrow(/unknown broker limit "bogus"/);
  });
});
