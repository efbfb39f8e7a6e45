import { describe, expect, it } from 'vitest';
import {
  classifyTopic,
  deliverDecision,
  publishDecision,
  subscribeDecision,
  type TopicClass,
  type TopicRules,
} from '../../../src-main/core/topic-access.ts';
import type { DeviceScope } from '../../../src-main/core/device-scope.ts';
import type { ReasonCode, TopicFilterType } from '../../../src-main/core/types.ts';
import { device, hexId, idScope, session } from '../../helpers/core-fixtures.ts';

const ME = hexId(1);
const PEER = hexId(2); // in scope
const OUT = hexId(3); // out of scope
const scope = idScope(ME, PEER);
const none: TopicRules = { filterType: 'none', pubTopics: [], subTopics: [] };

describe('classifyTopic', () => {
  it.each<[string, TopicClass]>([
    [`losant/${ME}/state`, { kind: 'device', deviceId: ME, channel: 'state' }],
    [`losant/${ME}/command`, { kind: 'device', deviceId: ME, channel: 'command' }],
    [`losant/${ME}/other`, { kind: 'reserved' }],
    [`losant/${ME}/state/x`, { kind: 'reserved' }],
    [`losant/${ME}0/state`, { kind: 'reserved' }], // 25 hex characters
    ['losant/ABCDEF0123456789ABCDEF01/state', { kind: 'reserved' }],
    ['losant/short/state', { kind: 'reserved' }],
    ['losant', { kind: 'reserved' }],
    ['losant/', { kind: 'reserved' }],
    ['$SYS/x', { kind: 'system' }],
    ['$share/g/x', { kind: 'system' }],
    ['$', { kind: 'system' }],
    ['losantx/y', { kind: 'custom' }],
    ['Losant/x', { kind: 'custom' }],
    ['sensors/temp', { kind: 'custom' }],
    ['a/losant/x', { kind: 'custom' }],
  ])('%j → %j', (topic, expected) => {
    expect(classifyTopic(topic)).toEqual(expected);
  });

  it('classifies a name again after another one (the last result is remembered), its result frozen', () => {
    const names = [`losant/${ME}/state`, `losant/${ME}/state`, 'a/b', `losant/${PEER}/command`, `losant/${ME}/state`];
    const kinds = names.map((n) => classifyTopic(n));
    expect(kinds).toEqual([
      { kind: 'device', deviceId: ME, channel: 'state' },
      { kind: 'device', deviceId: ME, channel: 'state' },
      { kind: 'custom' },
      { kind: 'device', deviceId: PEER, channel: 'command' },
      { kind: 'device', deviceId: ME, channel: 'state' },
    ]);
    expect(Object.isFrozen(kinds[0])).toBe(true);
  });

  it('a remembered name is still decided against the session asking (scope read live)', () => {
    const topic = `losant/${ME}/state`;
    expect(publishDecision(session(ME, scope, none), topic)).toMatchObject({ allowed: true, rule: 'own state topic' });
    expect(publishDecision(session(PEER, idScope(PEER), none), topic)).toMatchObject({
      allowed: false,
      reason: 'topic.out-of-scope',
    });
    expect(publishDecision(session(PEER, scope, none), topic)).toMatchObject({
      allowed: true,
      rule: `device ${ME} is in the key's scope`,
    });
  });
});

type Row = [string, string, boolean, ReasonCode, string];

describe('publishDecision: docs/design.md §5 table', () => {
  const rows: Row[] = [
    ['own state', `losant/${ME}/state`, true, 'publish.allowed', 'own state'],
    ['own command', `losant/${ME}/command`, true, 'publish.allowed', 'own command'],
    ['in-scope device state', `losant/${PEER}/state`, true, 'publish.allowed', `device ${PEER}`],
    ['in-scope device command', `losant/${PEER}/command`, true, 'publish.allowed', `device ${PEER}`],
    ['out-of-scope device state', `losant/${OUT}/state`, false, 'topic.out-of-scope', OUT],
    ['out-of-scope device command', `losant/${OUT}/command`, false, 'topic.out-of-scope', OUT],
    ['other losant topic', `losant/${ME}/config`, false, 'topic.reserved', 'losant/{deviceId}/state'],
    ['bare losant', 'losant', false, 'topic.reserved', 'losant/'],
    ['losant with a bad id', 'losant/nope/state', false, 'topic.reserved', 'losant/'],
    ['$SYS', '$SYS/x', false, 'topic.system', '"$"'],
    ['any $ topic', '$foo', false, 'topic.system', '"$"'],
    ['custom with filterType none', 'sensors/temp', false, 'topic.custom-none', 'none'],
    ['wildcard in a topic name', 'sensors/#', false, 'topic.invalid', 'wildcard'],
    ['empty topic', '', false, 'topic.invalid', 'empty'],
  ];
  it.each(rows)('%s: %j', (_what, topic, allowed, reason, rule) => {
    const d = publishDecision(session(ME, scope, none), topic);
    expect(d.reason).toBe(reason);
    expect(d.allowed).toBe(allowed);
    expect(d.rule).toContain(rule);
  });

  it('an all-devices key may publish to any device topic', () => {
    const s = session(ME, { kind: 'all' }, none);
    expect(publishDecision(s, `losant/${OUT}/state`).allowed).toBe(true);
    expect(publishDecision(s, `losant/${OUT}/command`).allowed).toBe(true);
    expect(publishDecision(s, `losant/${OUT}/x`).reason).toBe('topic.reserved');
  });
});

describe('subscribe/deliver: docs/design.md §5 table', () => {
  const rows: [string, string, boolean, ReasonCode][] = [
    ['own state', `losant/${ME}/state`, true, 'subscribe.granted'],
    ['own command', `losant/${ME}/command`, true, 'subscribe.granted'],
    ['in-scope state', `losant/${PEER}/state`, true, 'subscribe.granted'],
    ['in-scope command', `losant/${PEER}/command`, true, 'subscribe.granted'],
    ['out-of-scope state', `losant/${OUT}/state`, false, 'topic.out-of-scope'],
    ['out-of-scope command', `losant/${OUT}/command`, false, 'topic.out-of-scope'],
    ['other losant topic', `losant/${ME}/config`, false, 'topic.reserved'],
    ['$SYS', '$SYS/x', false, 'topic.system'],
    ['custom, filterType none', 'sensors/temp', false, 'topic.custom-none'],
  ];
  it.each(rows)('subscribe %s: %j', (_what, topic, allowed, reason) => {
    const d = subscribeDecision(session(ME, scope, none), topic);
    expect(d.reason).toBe(reason);
    expect(d.allowed).toBe(allowed);
  });
  it.each(rows)('deliver %s: %j', (_what, topic, allowed, reason) => {
    const d = deliverDecision(session(ME, scope, none), topic);
    expect(d.reason).toBe(allowed ? 'deliver.allowed' : reason);
    expect(d.allowed).toBe(allowed);
  });
});

describe('custom topics per filterType', () => {
  const rules = (filterType: TopicFilterType): TopicRules => ({
    filterType,
    pubTopics: ['sensors/+/temp', 'out/#'],
    subTopics: ['cmd/+', 'in/#'],
  });
  const rows: [TopicFilterType, 'publish' | 'deliver' | 'subscribe', string, boolean, ReasonCode, string][] = [
    ['none', 'publish', 'sensors/a/temp', false, 'topic.custom-none', 'none'],
    ['none', 'deliver', 'cmd/a', false, 'topic.custom-none', 'none'],
    ['none', 'subscribe', 'cmd/a', false, 'topic.custom-none', 'none'],
    ['all', 'publish', 'anything/at/all', true, 'publish.allowed', 'all'],
    ['all', 'deliver', 'anything/at/all', true, 'deliver.allowed', 'all'],
    ['all', 'subscribe', 'anything/#', true, 'subscribe.granted', 'all'],
    ['whitelist', 'publish', 'sensors/a/temp', true, 'publish.allowed', 'pubTopics whitelist entry "sensors/+/temp"'],
    ['whitelist', 'publish', 'out/x/y', true, 'publish.allowed', '"out/#"'],
    ['whitelist', 'publish', 'sensors/a/hum', false, 'topic.not-whitelisted', 'pubTopics whitelist'],
    ['whitelist', 'publish', 'cmd/a', false, 'topic.not-whitelisted', 'pubTopics'], // subTopics do not grant publish
    ['whitelist', 'deliver', 'cmd/a', true, 'deliver.allowed', 'subTopics whitelist entry "cmd/+"'],
    ['whitelist', 'deliver', 'sensors/a/temp', false, 'topic.not-whitelisted', 'subTopics'], // pubTopics do not grant reading
    ['whitelist', 'subscribe', 'cmd/+', true, 'subscribe.granted', '"cmd/+"'],
    ['whitelist', 'subscribe', 'cmd/#', true, 'subscribe.granted', '"cmd/+"'],
    ['whitelist', 'subscribe', 'other/#', false, 'topic.not-whitelisted', 'subTopics'],
    [
      'blacklist',
      'publish',
      'sensors/a/temp',
      false,
      'topic.blacklisted',
      'pubTopics blacklist entry "sensors/+/temp"',
    ],
    ['blacklist', 'publish', 'sensors/a/hum', true, 'publish.allowed', 'blacklist'],
    ['blacklist', 'deliver', 'in/x', false, 'topic.blacklisted', '"in/#"'],
    ['blacklist', 'deliver', 'out/x', true, 'deliver.allowed', 'subTopics blacklist'],
    ['blacklist', 'subscribe', 'in/x/#', false, 'topic.blacklisted', '"in/#"'],
    ['blacklist', 'subscribe', 'cmd/#', true, 'subscribe.granted', 'blacklist'], // partly blacklisted: granted, deliveries re-checked
  ];
  it.each(rows)('%s %s %j', (filterType, action, topic, allowed, reason, rule) => {
    // Custom-topic rules apply whatever the device scope is.
    for (const sc of [scope, { kind: 'all' } as DeviceScope]) {
      const s = session(ME, sc, rules(filterType));
      const d =
        action === 'publish'
          ? publishDecision(s, topic)
          : action === 'deliver'
            ? deliverDecision(s, topic)
            : subscribeDecision(s, topic);
      expect(d.reason).toBe(reason);
      expect(d.allowed).toBe(allowed);
      expect(d.rule).toContain(rule);
    }
  });
});

describe('gateways publishing state for peripherals', () => {
  const GW = hexId(0x10);
  const GW2 = hexId(0x11);
  const STANDALONE = hexId(0x12);
  const P_MINE = hexId(0x20);
  const P_ANY = hexId(0x21);
  const P_OTHER = hexId(0x22);
  const NOT_PERIPHERAL = hexId(0x23);
  const world = [
    device({ id: GW, deviceClass: 'gateway' }),
    device({ id: GW2, deviceClass: 'gateway' }),
    device({ id: STANDALONE, deviceClass: 'standalone' }),
    device({ id: P_MINE, deviceClass: 'peripheral', gatewayId: GW }),
    device({ id: P_ANY, deviceClass: 'peripheral' }),
    device({ id: P_OTHER, deviceClass: 'peripheral', gatewayId: GW2 }),
    device({ id: NOT_PERIPHERAL, deviceClass: 'standalone' }),
  ];

  it.each<[string, string, string, boolean, ReasonCode, string]>([
    [
      'gateway → its own peripheral (gatewayId = gateway)',
      GW,
      `losant/${P_MINE}/state`,
      true,
      'publish.allowed',
      `gateway ${GW} reports for its peripheral ${P_MINE}`,
    ],
    [
      'gateway → a peripheral bound to any gateway (gatewayId absent)',
      GW,
      `losant/${P_ANY}/state`,
      true,
      'publish.allowed',
      P_ANY,
    ],
    [
      'gateway → a peripheral bound to another gateway',
      GW,
      `losant/${P_OTHER}/state`,
      false,
      'topic.out-of-scope',
      P_OTHER,
    ],
    [
      'gateway → a non-peripheral device',
      GW,
      `losant/${NOT_PERIPHERAL}/state`,
      false,
      'topic.out-of-scope',
      NOT_PERIPHERAL,
    ],
    ['gateway → an unknown device', GW, `losant/${hexId(0x99)}/state`, false, 'topic.out-of-scope', hexId(0x99)],
    [
      "gateway → its peripheral's COMMAND topic (state only)",
      GW,
      `losant/${P_MINE}/command`,
      false,
      'topic.out-of-scope',
      P_MINE,
    ],
    [
      'standalone → a peripheral bound to any gateway',
      STANDALONE,
      `losant/${P_ANY}/state`,
      false,
      'topic.out-of-scope',
      P_ANY,
    ],
    ['the other gateway → its own peripheral', GW2, `losant/${P_OTHER}/state`, true, 'publish.allowed', P_OTHER],
  ])('%s', (_what, me, topic, allowed, reason, rule) => {
    // The key is scoped to the connecting device only: the peripheral is NOT in scope.
    const d = publishDecision(session(me, idScope(me), none, world), topic);
    expect(d.reason).toBe(reason);
    expect(d.allowed).toBe(allowed);
    expect(d.rule).toContain(rule);
  });

  it('reporting for a peripheral does not let the gateway READ its state', () => {
    const s = session(GW, idScope(GW), none, world);
    expect(deliverDecision(s, `losant/${P_MINE}/state`).reason).toBe('topic.out-of-scope');
    expect(subscribeDecision(s, `losant/${P_MINE}/state`).reason).toBe('topic.out-of-scope');
  });
});

describe('subscribeDecision with wildcards', () => {
  const rows: [string, DeviceScope, TopicRules, string, boolean, ReasonCode, string?][] = [
    ['# with a device scope', scope, none, '#', true, 'subscribe.granted', 'in the key'],
    ['# with all devices', { kind: 'all' }, none, '#', true, 'subscribe.granted', 'all devices'],
    ['losant/+/state', scope, none, 'losant/+/state', true, 'subscribe.granted'],
    ['losant/+/command', scope, none, 'losant/+/command', true, 'subscribe.granted'],
    ['losant/<own id>/#', scope, none, `losant/${ME}/#`, true, 'subscribe.granted', ME],
    ['losant/<in-scope id>/+', scope, none, `losant/${PEER}/+`, true, 'subscribe.granted', PEER],
    ['losant/<out-of-scope id>/#', scope, none, `losant/${OUT}/#`, false, 'topic.out-of-scope'],
    ['losant/+/config (no device topic)', scope, none, 'losant/+/config', false, 'topic.reserved'],
    ['losant/# with a device scope', scope, none, 'losant/#', true, 'subscribe.granted'],
    ['+/x, filterType none', scope, none, '+/x', false, 'topic.custom-none'],
    [
      '+/x, filterType all',
      scope,
      { filterType: 'all', pubTopics: [], subTopics: [] },
      '+/x',
      true,
      'subscribe.granted',
      'all',
    ],
    [
      '+/x, whitelist a/x',
      scope,
      { filterType: 'whitelist', pubTopics: [], subTopics: ['a/x'] },
      '+/x',
      true,
      'subscribe.granted',
      '"a/x"',
    ],
    [
      '+/x, whitelist a/y',
      scope,
      { filterType: 'whitelist', pubTopics: [], subTopics: ['a/y'] },
      '+/x',
      false,
      'topic.not-whitelisted',
    ],
    ['+/+/state with an in-scope device', scope, none, '+/+/state', true, 'subscribe.granted'],
    ['$SYS/#', { kind: 'all' }, { filterType: 'all', pubTopics: [], subTopics: [] }, '$SYS/#', false, 'topic.system'],
    ['$SYS/x', scope, none, '$SYS/x', false, 'topic.system'],
    ['bad filter a/#/b', scope, none, 'a/#/b', false, 'topic.invalid'],
    ['bad filter a+', scope, none, 'a+', false, 'topic.invalid'],
  ];
  it.each(rows)('%s', (_what, sc, rules, filter, allowed, reason, rule) => {
    const d = subscribeDecision(session(ME, sc, rules), filter);
    expect(d.reason).toBe(reason);
    expect(d.allowed).toBe(allowed);
    if (rule !== undefined) expect(d.rule).toContain(rule);
  });
});

describe('deliverDecision re-checks every message', () => {
  it('a message on an out-of-scope state topic is refused although # was granted', () => {
    const s = session(ME, scope, none);
    expect(subscribeDecision(s, '#').allowed).toBe(true);
    expect(deliverDecision(s, `losant/${OUT}/state`)).toMatchObject({ allowed: false, reason: 'topic.out-of-scope' });
    expect(deliverDecision(s, `losant/${PEER}/state`)).toMatchObject({ allowed: true, reason: 'deliver.allowed' });
    expect(deliverDecision(s, 'custom/topic')).toMatchObject({ allowed: false, reason: 'topic.custom-none' });
    expect(deliverDecision(s, '$SYS/broker/uptime')).toMatchObject({ allowed: false, reason: 'topic.system' });
    expect(deliverDecision(s, `losant/${ME}/x`)).toMatchObject({ allowed: false, reason: 'topic.reserved' });
  });

  it('a custom topic blacklisted after subscribe is refused (rules are read live)', () => {
    const rules: TopicRules = { filterType: 'blacklist', pubTopics: [], subTopics: [] };
    const s = session(ME, scope, rules);
    expect(subscribeDecision(s, 'news/#').allowed).toBe(true);
    expect(deliverDecision(s, 'news/today').allowed).toBe(true);
    rules.subTopics = ['news/today'];
    expect(deliverDecision(s, 'news/today')).toMatchObject({ allowed: false, reason: 'topic.blacklisted' });
    expect(deliverDecision(s, 'news/today').rule).toContain('"news/today"');
    expect(deliverDecision(s, 'news/tomorrow').allowed).toBe(true);
    // Switching the filter type off entirely also applies to the next message.
    rules.filterType = 'none';
    expect(deliverDecision(s, 'news/tomorrow').reason).toBe('topic.custom-none');
  });

  it('publish rules are read live too', () => {
    const rules: TopicRules = { filterType: 'all', pubTopics: [], subTopics: [] };
    const s = session(ME, scope, rules);
    expect(publishDecision(s, 'a/b').allowed).toBe(true);
    rules.filterType = 'whitelist';
    rules.pubTopics = ['c/#'];
    expect(publishDecision(s, 'a/b').reason).toBe('topic.not-whitelisted');
    expect(publishDecision(s, 'c/d').allowed).toBe(true);
  });
});
