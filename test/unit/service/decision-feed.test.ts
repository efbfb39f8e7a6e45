// service/decision-feed.ts (docs/design.md §8): the ring keeps one copy of a run of equal topic and
// rule strings (issue 17); what it hands out and tells its listeners is still each event's own.
import { describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../../src-main/core/decision-event.ts';
import { DecisionFeed } from '../../../src-main/service/decision-feed.ts';

const event = (topic: string | undefined, rule: string): DecisionEvent => ({
  seq: 0,
  time: '',
  transport: 'tcp',
  action: 'publish',
  result: 'allowed',
  reason: 'publish.allowed',
  rule,
  deviceId: 'd',
  ...(topic !== undefined ? { topic } : {}),
});

describe('DecisionFeed', () => {
  it('lists and tells every event with its own topic and rule, in order, through runs of equal ones', () => {
    const feed = new DecisionFeed(50);
    const told: DecisionEvent[] = [];
    feed.events.on('decision', (e) => told.push({ ...e }));
    const wanted: [string | undefined, string][] = [];
    for (let i = 0; i < 80; i++) {
      // Fresh strings every time (as parsed from each packet), equal within runs.
      const topic = i % 9 === 4 ? undefined : `losant/${'ab'.repeat(i % 5 < 3 ? 1 : 2)}/state`;
      const rule = ['own state topic', `device ${i % 2} is in the key's scope`][Math.floor(i / 7) % 2] as string;
      wanted.push([topic, rule]);
      feed.add(event(topic === undefined ? undefined : topic.slice(0), rule.slice(0)));
    }
    const list = feed.list();
    expect(list.map((e) => [e.topic, e.rule])).toEqual(wanted.slice(-50));
    expect(told.map((e) => [e.topic, e.rule])).toEqual(wanted);
    expect(list.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 31 + i));
  });
});
