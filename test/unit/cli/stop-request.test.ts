// listenForStop (src-main/cli/stop-request.ts): listening from the moment it is made, the first
// stop wins, and after it nothing listens, so a second Ctrl+C gets the default action (stops at once).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { listenForStop } from '../../../src-main/cli/stop-request.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const listening = (e: EventEmitter) => SIGNALS.map((s) => e.listenerCount(s));

describe('listenForStop', () => {
  it('listens for SIGINT, SIGTERM and SIGHUP at once; the first signal is the reason, then nothing listens', async () => {
    const e = new EventEmitter();
    const stop = listenForStop(e);
    expect(listening(e)).toEqual([1, 1, 1]);
    expect(stop.reason).toBeNull();
    expect(e.emit('SIGHUP')).toBe(true);
    expect(stop.reason).toBe('SIGHUP');
    expect(listening(e)).toEqual([0, 0, 0]);
    expect(e.emit('SIGTERM')).toBe(false); // a real process: the default action
    stop.request('parent exited');
    expect(stop.reason).toBe('SIGHUP');
    await expect(stop.stopped).resolves.toBe('SIGHUP');
  });

  it('request() stops for another reason and stops listening; dispose() only stops listening', async () => {
    const e = new EventEmitter();
    const a = listenForStop(e, ['SIGINT', 'SIGTERM']);
    expect(listening(e)).toEqual([1, 1, 0]);
    a.request('parent exited');
    expect(listening(e)).toEqual([0, 0, 0]);
    await expect(a.stopped).resolves.toBe('parent exited');
    const b = listenForStop(e);
    b.dispose();
    expect(listening(e)).toEqual([0, 0, 0]);
    expect(b.reason).toBeNull();
  });
});
