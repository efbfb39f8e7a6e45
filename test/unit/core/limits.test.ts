// Losant's message throttling rules (https://docs.losant.com/references/message-throttling) as
// pure bookkeeping: time is passed in, so windows and bans are tested without waiting.
import { describe, expect, it } from 'vitest';
import {
  ApplicationLimits,
  BAN_MEMORY_MS,
  BAN_STEPS_MS,
  ConnectionMeter,
  LOSANT_LIMITS,
  SlidingWindow,
  describeDuration,
  fleetLimitWarnings,
  parseLimitsMode,
} from '../../../src-main/core/limits.ts';

describe('SlidingWindow', () => {
  it('refuses the (limit+1)th event inside one window and admits it once the oldest has aged out', () => {
    const w = new SlidingWindow(3, 1000);
    expect(w.hit(0)).toBeLessThanOrEqual(3);
    expect(w.hit(100)).toBeLessThanOrEqual(3);
    expect(w.hit(200)).toBeLessThanOrEqual(3);
    expect(w.hit(999)).toBe(4);
    expect(w.hit(1000)).toBeLessThanOrEqual(3); // the event at 0 left the window
    expect(w.inWindow(1000)).toBe(3);
  });

  it('is sliding, not fixed: a burst across a window boundary still counts', () => {
    const w = new SlidingWindow(2, 1000);
    w.hit(900);
    w.hit(950);
    expect(w.hit(1050)).toBe(3);
  });
});

describe('ConnectionMeter (Losant figures)', () => {
  it('the 31st message in 15 s on one topic breaks the topic limit and names the count, topic and limit', () => {
    const m = new ConnectionMeter();
    for (let i = 0; i < 30; i++) expect(m.message('in', 'losant/abc/state', i * 100)).toBeNull();
    const d = m.message('in', 'losant/abc/state', 3100);
    expect(d).toMatchObject({ allowed: false, reason: 'limit.topic-rate' });
    expect(d?.rule).toContain('31 messages in 15 s on losant/abc/state');
    expect(d?.rule).toContain('limit 30');
  });

  it('30 messages every 15 s on one topic are fine forever', () => {
    const m = new ConnectionMeter();
    for (let i = 0; i < 300; i++) expect(m.message('in', 't', i * 500)).toBeNull();
  });

  it('counts each direction on its own', () => {
    const m = new ConnectionMeter();
    for (let i = 0; i < 30; i++) {
      expect(m.message('in', 'custom/x', i)).toBeNull();
      expect(m.message('out', 'custom/x', i)).toBeNull();
    }
    expect(m.message('out', 'custom/x', 40)?.rule).toContain('to the device');
  });

  it('the 301st message in 15 s on one connection breaks the connection limit', () => {
    const m = new ConnectionMeter();
    for (let i = 0; i < 300; i++) expect(m.message('in', `t/${i % 20}`, i * 10)).toBeNull();
    const d = m.message('in', 't/new', 3000);
    expect(d).toMatchObject({ reason: 'limit.connection-rate' });
    expect(d?.rule).toContain('301 messages in 15 s on this connection, limit 300');
  });

  it('keeps a bounded number of topic windows when a device uses ever new topics', () => {
    const m = new ConnectionMeter({ ...LOSANT_LIMITS, perConnection: 1_000_000 });
    for (let i = 0; i < 5000; i++) m.message('in', `t/${i}`, i * 100);
    expect(m.trackedTopics).toBeLessThanOrEqual(1024);
  });
});

describe('ApplicationLimits', () => {
  it('bans for 30 s, then admits again', () => {
    const a = new ApplicationLimits();
    expect(a.admit('d1', 0)).toBeNull();
    expect(a.ban('d1', 1000)).toEqual({ level: 1, until: 31_000 });
    const d = a.admit('d1', 11_000);
    expect(d).toMatchObject({ allowed: false, reason: 'limit.banned' });
    expect(d?.rule).toContain('20 s more');
    expect(d?.rule).toContain('ban level 1');
    expect(a.admit('d2', 11_000)).toBeNull(); // only that device
    expect(a.admit('d1', 31_000)).toBeNull();
  });

  it('escalates with repeats, doubling up to one hour, and stays at one hour', () => {
    const a = new ApplicationLimits();
    let now = 0;
    const lengths: number[] = [];
    for (let i = 0; i < BAN_STEPS_MS.length + 2; i++) {
      const b = a.ban('d', now);
      lengths.push(b.until - now);
      now = b.until + 1;
    }
    expect(lengths.slice(0, 3)).toEqual([30_000, 60_000, 120_000]);
    expect(Math.max(...lengths)).toBe(3_600_000);
    expect(lengths.at(-1)).toBe(3_600_000);
  });

  it('forgets repeats after an hour without a ban', () => {
    const a = new ApplicationLimits();
    const first = a.ban('d', 0);
    expect(a.ban('d', first.until + BAN_MEMORY_MS + 1).level).toBe(1);
  });

  it('refuses the 301st device connection in 15 s in the application', () => {
    const a = new ApplicationLimits();
    for (let i = 0; i < 300; i++) expect(a.admit(`d${i}`, i)).toBeNull();
    const d = a.admit('late', 500);
    expect(d).toMatchObject({ reason: 'limit.connect-rate' });
    expect(d?.rule).toContain('301 device connections in 15 s');
    expect(a.admit('late', 15_000)).toBeNull();
  });

  it('clear lifts every ban', () => {
    const a = new ApplicationLimits();
    a.ban('d', 0);
    expect(a.activeBans(1)).toHaveLength(1);
    a.clear();
    expect(a.admit('d', 1)).toBeNull();
  });
});

describe('helpers', () => {
  it('names durations', () => {
    expect(describeDuration(30_000)).toBe('30 s');
    expect(describeDuration(240_000)).toBe('4 min');
    expect(describeDuration(3_600_000)).toBe('1 h');
  });
  it('parses the mode and names a bad one', () => {
    expect(parseLimitsMode('off')).toBe('off');
    expect(() => parseLimitsMode('aws')).toThrow(/limits must be "losant" or "off" \(got "aws"\)/);
  });
});

describe('fleetLimitWarnings', () => {
  it('warns when a fleet would exceed 300 connections in 15 s', () => {
    expect(fleetLimitWarnings(300, 5)).toEqual([]);
    const w = fleetLimitWarnings(301, 5);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('301 devices connect within 15 s');
    expect(w[0]).toContain('1 would be refused (limit.connect-rate)');
  });
  it('warns when the report interval breaks the per-topic rate', () => {
    expect(fleetLimitWarnings(10, 0.5)).toEqual([]); // 30 per 15 s: exactly the limit
    expect(fleetLimitWarnings(10, 0.4)[0]).toContain('38 messages per 15 s');
  });
});
