// aedes emits 'error' on itself when its emitter cannot pass a message on (cluster mode with Redis
// refusing or gone) or a wills sweep fails. Without a listener Node throws it and the node ends
// before its store is written; with Keyport's, the node goes on and says what failed, at most
// every 10 s, and says nothing while it closes (a node stopped while Redis is away).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { brokerErrors } from '../../../src-main/broker/broker-errors.ts';
import { startBrokerHarness, type BrokerHarness } from '../../helpers/broker-harness.ts';

let h: BrokerHarness | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await h?.stop();
  h = undefined;
});

describe("the broker's own errors", () => {
  it('an error aedes emits on itself neither throws nor ends the node: one line names it', async () => {
    const logged: string[] = [];
    h = await startBrokerHarness({ log: (l) => logged.push(l) });
    const aedes = h.rt.broker.aedes as unknown as NodeJS.EventEmitter;
    expect(() => aedes.emit('error', new Error('Connection is closed.'))).not.toThrow();
    expect(logged).toEqual(['keyport: the broker could not pass a message on: Connection is closed.']);
  });

  it('says so at most every 10 s, counting the errors in between; nothing while closing', () => {
    vi.useFakeTimers({ now: 0 });
    const logged: string[] = [];
    let closing = false;
    const onError = brokerErrors(
      (l) => logged.push(l),
      () => closing,
    );
    onError(new Error('first'));
    vi.setSystemTime(5_000);
    onError(new Error('second'));
    onError(new Error('third'));
    vi.setSystemTime(10_000);
    onError(new Error('fourth'));
    closing = true;
    vi.setSystemTime(60_000);
    onError(new Error('closing: the cluster’s Redis is away'));
    expect(logged).toEqual([
      'keyport: the broker could not pass a message on: first',
      'keyport: the broker could not pass a message on: fourth (3 such errors since the last line)',
    ]);
  });
});
