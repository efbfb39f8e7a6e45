// Turns service, feed and broker activity into the contract's events, for any transport.
// Decisions are batched (a broker under load makes thousands a second; a UI needs a few a frame):
// one `decisions` message per flush carries all of them, so a transport sends one IPC/WebSocket
// message per interval, not one per decision.
import type { BrokerStatus, EventName, Events } from '../contract.ts';
import type { DecisionEvent } from '../core/decision-event.ts';
import type { MessageDelivery } from '../core/message.ts';
import type { Simulator } from '../simulator/simulator.ts';
import { keyedThrottle } from '../shared/keyed-throttle.ts';
import type { KeyportService } from './service.ts';

export type EventSink = <E extends EventName>(event: E, payload: Events[E]) => void;

export interface EventOptions {
  brokerStatus?: () => BrokerStatus;
  /** How often batched decisions go out (default 100 ms). */
  flushMs?: number;
  /** How often broker status goes out (default 1000 ms). */
  statusMs?: number;
  /** At most this many decisions per flush; older ones in the batch are skipped (the feed keeps them). */
  maxDecisionsPerFlush?: number;
  /** Simulated devices: simulator.changed (at most 5/s per simulation, 1/s for fleet members), .removed, .fleet. */
  simulator?: Simulator;
  /** Shortest gap between two simulator.changed events of one simulation (default 200 ms; fleet members 1000 ms). */
  simChangedMs?: number;
  /** Least time between two device.changed events for one device caused by broker bookkeeping. */
  deviceStatusMs?: number;
}

function followSimulator(sim: Simulator, emit: EventSink, gapMs: number): () => void {
  const throttle = keyedThrottle(
    (id) => (sim.find(id)?.fleetId !== undefined ? Math.max(gapMs, 1000) : gapMs),
    (id) => {
      const s = sim.find(id);
      if (s) emit('simulator.changed', s.snapshot(s.fleetId !== undefined ? 5 : undefined));
    },
  );
  const offs = [
    sim.events.on('changed', ({ id }) => throttle.push(id)),
    sim.events.on('removed', (r) => emit('simulator.removed', r)),
    sim.events.on('fleet', (f) => emit('simulator.fleet', f)),
  ];
  return () => {
    offs.forEach((off) => off());
    throttle.cancel();
  };
}

export function subscribeContractEvents(service: KeyportService, emit: EventSink, opts: EventOptions = {}): () => void {
  const max = opts.maxDecisionsPerFlush ?? 200;
  let pending: DecisionEvent[] = [];
  // Messages for live subscriptions, batched the same way (the server rings keep what a batch skips).
  let pendingMessages: MessageDelivery[] = [];
  const flush = () => {
    if (pendingMessages.length > 0) {
      const batch =
        pendingMessages.length > max ? pendingMessages.slice(pendingMessages.length - max) : pendingMessages;
      pendingMessages = [];
      emit('messages', batch);
    }
    if (pending.length === 0) return;
    const batch = pending.length > max ? pending.slice(pending.length - max) : pending;
    pending = [];
    emit('decisions', batch);
  };
  // Broker bookkeeping (connection status, every state report) changes a device far more often
  // than a list needs to redraw: at most one device.changed per device per deviceStatusMs.
  const statusChanges = keyedThrottle(opts.deviceStatusMs ?? 250, (id) => {
    const d = service.store.getDevice(id);
    if (d) emit('device.changed', d);
  });
  const offs = [
    service.feed.events.on('decision', (d) => {
      pending.push(d);
      if (pending.length > max * 2) pending.splice(0, pending.length - max);
    }),
    service.messages.events.on('message', ({ message, subscriptions }) => {
      pendingMessages.push({ ...message, subscriptions });
      if (pendingMessages.length > max * 2) pendingMessages.splice(0, pendingMessages.length - max);
    }),
    service.events.on('device.created', (d) => emit('device.changed', d)),
    service.events.on('device.updated', ({ after }) => emit('device.changed', after)),
    service.events.on('device.status', (d) => statusChanges.push(d.id)),
    service.events.on('device.deleted', (d) => emit('device.deleted', { id: d.id })),
    service.events.on('device.state', (s) => emit('device.state', s)),
    service.events.on('device.command', (c) => emit('device.command', c)),
    service.events.on('key.created', (k) => emit('key.changed', k)),
    service.events.on('key.updated', ({ after }) => emit('key.changed', after)),
    service.events.on('key.deleted', (k) => emit('key.deleted', { id: k.id })),
    ...(opts.simulator ? [followSimulator(opts.simulator, emit, opts.simChangedMs ?? 200)] : []),
  ];
  const flushTimer = setInterval(flush, opts.flushMs ?? 100);
  flushTimer.unref();
  const status = opts.brokerStatus;
  const statusTimer = status ? setInterval(() => emit('broker.status', status()), opts.statusMs ?? 1000) : undefined;
  statusTimer?.unref();
  return () => {
    offs.forEach((off) => off());
    // A status change still waiting for its interval is delivered, not dropped: the last
    // device.changed a transport sees is the device's latest record.
    statusChanges.flush();
    clearInterval(flushTimer);
    if (statusTimer) clearInterval(statusTimer);
    flush();
  };
}
