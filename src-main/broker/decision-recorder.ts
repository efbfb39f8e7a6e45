// How the broker records a decision about a connection (docs/design.md §8): the session's device,
// key and address when it has one, else what the caller knows. Runs for every PUBLISH and every
// refused delivery, so the event is built once, in its final shape.
import type { Client } from 'aedes';
import type { DecisionEvent } from '../core/decision-event.ts';
import type { Decision } from '../core/types.ts';
import type { DecisionSink, NewDecision } from '../shared/ports.ts';
import { infoOf } from './client-info.ts';

export type RecordDecision = (
  client: Client,
  action: NewDecision['action'],
  d: Decision,
  extra?: Partial<NewDecision>,
  topic?: string,
) => DecisionEvent;

export function decisionRecorder(sink: DecisionSink): RecordDecision {
  return (client, action, d, extra, topic) => {
    const info = infoOf(client);
    const s = info.session;
    // (peerAddress comes only with forwardedFor: the fast path has neither.)
    if (s && topic !== undefined && extra === undefined && s.forwardedFor === undefined) {
      // The PUBLISH path: every field in one literal (the same keys, in the same order, as below),
      // so V8 allocates the event in one piece; the feed keeps 10,000 of them.
      const fast: DecisionEvent = {
        seq: 0,
        time: '',
        transport: info.transport,
        action,
        result: d.allowed ? 'allowed' : 'denied',
        reason: d.reason,
        rule: d.rule,
        deviceId: s.deviceId,
        keyId: s.keyId,
        sourceAddress: s.address,
        topic,
      };
      sink.add(fast);
      return fast;
    }
    // Built in its final shape (seq and time first, filled in by the feed): no copy per event.
    const e: DecisionEvent = {
      seq: 0,
      time: '',
      transport: info.transport,
      action,
      result: d.allowed ? 'allowed' : 'denied',
      reason: d.reason,
      rule: d.rule,
    };
    if (s) {
      e.deviceId = s.deviceId;
      e.keyId = s.keyId;
      e.sourceAddress = s.address;
      if (s.forwardedFor) e.forwardedFor = s.forwardedFor;
      if (s.peerAddress) e.peerAddress = s.peerAddress;
    }
    if (extra) Object.assign(e, extra);
    if (topic !== undefined) e.topic = topic;
    sink.add(e);
    return e;
  };
}
