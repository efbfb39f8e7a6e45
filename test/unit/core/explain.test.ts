// core/explain.ts: the chain of checks and the decisions it reports are the broker's own
// (evaluateConnect / publishDecision / subscribeDecision / deliverDecision on the same inputs).
import { describe, expect, it } from 'vitest';
import { evaluateConnect } from '../../../src-main/core/connect.ts';
import { explain, type ExplainRequest } from '../../../src-main/core/explain.ts';
import { accessKey, connectEnv, connectRequest, device, tag } from '../../helpers/core-fixtures.ts';

const base = (key: string, clientId: string, extra: Partial<ExplainRequest> = {}): ExplainRequest => ({
  key,
  clientId,
  transport: 'tcp',
  address: '127.0.0.1',
  publish: [],
  subscribe: [],
  ...extra,
});

describe('explain', () => {
  const a = device({ tags: [tag('type', 'thermo')] });
  const b = device({ tags: [tag('type', 'thermo')] });
  const other = device();
  const k = accessKey({
    deviceTags: [{ key: 'type', value: 'thermo' }],
    filterType: 'blacklist',
    subTopics: ['alerts/secret'],
    addressFilterType: 'whitelist',
    addresses: ['127.0.0.0/8'],
  });
  const env = connectEnv([k.record], [a, b, other]);

  it('reports every CONNECT check as passed, the secret as skipped without one, and the accepted rule', () => {
    const e = explain(base(k.record.key, a.id), env);
    expect(e.connect.decision).toEqual({
      allowed: true,
      reason: 'connect.accepted',
      rule: 'deviceTags entry "type=thermo"',
    });
    expect(e.connect.chain.map((c) => [c.check, c.status])).toEqual([
      ['protocol', 'passed'],
      ['credentials', 'passed'],
      ['key', 'passed'],
      ['secret', 'skipped'],
      ['key status', 'passed'],
      ['client address', 'passed'],
      ['address restriction', 'passed'],
      ['device', 'passed'],
      ['device restriction', 'passed'],
    ]);
    expect(e.allowed).toBe(true);
  });

  it('stops the chain at the failing check, naming the same rule the broker would', () => {
    const req = base(k.record.key, a.id, { address: '10.1.2.3' });
    const e = explain(req, env);
    const broker = evaluateConnect(connectRequest(k, a, { peerAddress: '10.1.2.3' }), env);
    expect(e.connect.decision).toEqual(broker.decision);
    expect(e.connect.chain.at(-1)).toEqual({
      check: 'address restriction',
      status: 'failed',
      detail: broker.decision.rule,
    });
    expect(e.allowed).toBe(false);
    expect(e.topics.every((t) => !t.reachable)).toBe(true);
  });

  it('checks a pasted secret (secret.mismatch) and evaluates topics even when the CONNECT is refused', () => {
    const e = explain(base(k.record.key, a.id, { secret: 'wrong', publish: [`losant/${a.id}/state`] }), env);
    expect(e.connect.decision.reason).toBe('secret.mismatch');
    expect(e.topics[0]).toMatchObject({ reachable: false, decision: { allowed: true, reason: 'publish.allowed' } });
    expect(explain(base(k.record.key, a.id, { secret: k.secret }), env).connect.chain[3]?.status).toBe('passed');
  });

  it('lists which device topics a wildcard subscription reaches and which deliveries are withheld', () => {
    const e = explain(base(k.record.key, a.id, { subscribe: ['losant/+/state', 'alerts/#'] }), env);
    const [dev, custom] = e.topics;
    expect(dev?.decision.reason).toBe('subscribe.granted');
    expect(dev?.reach?.delivered.sort()).toEqual([`losant/${a.id}/state`, `losant/${b.id}/state`].sort());
    expect(dev?.reach?.withheld).toEqual([
      {
        topic: `losant/${other.id}/state`,
        reason: 'topic.out-of-scope',
        rule: `device ${other.id} is not in the key's scope`,
      },
    ]);
    expect(custom?.reach?.withheld.map((w) => [w.topic, w.reason])).toEqual([
      ['custom topics matching "alerts/secret"', 'topic.blacklisted'],
    ]);
  });

  it('explains publish and delivery per topic with the chain ending at the deciding rule', () => {
    const e = explain(
      base(k.record.key, a.id, { publish: ['$SYS/x', 'a/+', `losant/${other.id}/state`], deliver: ['alerts/secret'] }),
      env,
    );
    expect(e.topics.map((t) => [t.action, t.decision.reason, t.chain.at(-1)?.status])).toEqual([
      ['publish', 'topic.system', 'failed'],
      ['publish', 'topic.invalid', 'failed'],
      ['publish', 'topic.out-of-scope', 'failed'],
      ['deliver', 'topic.blacklisted', 'failed'],
    ]);
  });
});
