// The decision feed of a RUNNING Keyport server, for `keyport simulate` in another process: the
// server's UI bridge (WebSocket /bridge, admin token) pushes contract events, `decisions` among them.
// The bridge batches decisions (one message per 100 ms with the newest 200), so under a very heavy
// burst some may be thinned; the simulations then miss those log lines, never get a wrong one.
import { WebSocket } from 'ws';
import type { DecisionEvent } from '../core/decision-event.ts';
import { TypedEmitter } from '../shared/typed-emitter.ts';
import type { DecisionSource } from '../simulator/outcomes.ts';

export interface BridgeFeed extends DecisionSource {
  close(): void;
}

export function openBridgeFeed(httpUrl: string, token: string, timeoutMs = 5000): Promise<BridgeFeed> {
  const url = `${httpUrl.replace(/^http/, 'ws')}/bridge`;
  const events = new TypedEmitter<{ decision: DecisionEvent }>();
  // The admin token in a header, never in the URL (the server refuses it there).
  const ws = new WebSocket(url, ['keyport.bridge'], { headers: { authorization: `Bearer ${token}` } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`the Keyport server's event bridge at ${httpUrl} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.on('error', () => {});
      resolve({ on: (event, listener) => events.on(event, listener), close: () => ws.close() });
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the Keyport server's event bridge at ${httpUrl}: ${err.message}`));
    });
    ws.on('message', (data) => {
      let msg: { event?: unknown; payload?: unknown };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return;
      }
      if (msg.event !== 'decisions' || !Array.isArray(msg.payload)) return;
      for (const d of msg.payload as unknown[])
        if (typeof d === 'object' && d !== null) events.emit('decision', d as DecisionEvent);
    });
  });
}
