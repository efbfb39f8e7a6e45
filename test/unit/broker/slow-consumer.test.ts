import { PassThrough } from 'node:stream';
import type { Client } from 'aedes';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { guardSlowConsumer, type SlowVerdict } from '../../../src-main/broker/slow-consumer.ts';

// The watch keeps no 'close' listener (issue 17 item 4): a socket that closed while waiting
// for a drain must still get no verdict, and an open one must still get its drain verdict.
function setup(): { client: Client; conn: PassThrough; verdicts: SlowVerdict[]; wait: () => void } {
  const conn = new PassThrough();
  const client = { conn, waitForDrain: () => {} } as unknown as Client;
  (conn as unknown as { client: Client }).client = client;
  const verdicts: SlowVerdict[] = [];
  guardSlowConsumer(client, conn, { drainTimeoutMs: 1000, maxQueuedBytes: 1 << 20 }, (_c, _s, v) => verdicts.push(v));
  const wait = () => (client as unknown as { waitForDrain(cb: () => void): void }).waitForDrain(() => {});
  return { client, conn, verdicts, wait };
}

describe('slow consumer drain timer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('an open socket that does not drain gets the drain verdict, once', () => {
    const { verdicts, wait } = setup();
    wait();
    wait();
    vi.advanceTimersByTime(1500);
    expect(verdicts.map((v) => v.why)).toEqual(['drain']);
  });

  it('a drain in time clears the timer', () => {
    const { conn, verdicts, wait } = setup();
    wait();
    conn.emit('drain');
    vi.advanceTimersByTime(1500);
    expect(verdicts).toEqual([]);
  });

  it('a socket closed before the timeout gets no verdict', () => {
    const { conn, verdicts, wait } = setup();
    wait();
    conn.destroy();
    vi.advanceTimersByTime(1500);
    expect(verdicts).toEqual([]);
  });

  it('a write to a closed socket starts no timer and gives no verdict', () => {
    const { conn, verdicts, wait } = setup();
    conn.destroy();
    const timers = vi.getTimerCount();
    wait();
    expect(vi.getTimerCount() - timers).toBe(1); // the callback's setImmediate, no drain timer
    vi.advanceTimersByTime(1500);
    expect(verdicts).toEqual([]);
  });

  it('the guard adds no close listener to the socket', () => {
    const conn = new PassThrough();
    const before = conn.listenerCount('close');
    const client = { conn, waitForDrain: () => {} } as unknown as Client;
    (conn as unknown as { client: Client }).client = client;
    guardSlowConsumer(client, conn, { drainTimeoutMs: 1000, maxQueuedBytes: 1 << 20 }, () => {});
    expect(conn.listenerCount('close')).toBe(before);
    expect(conn.listenerCount('drain')).toBe(1);
  });
});
