// core/key-lint.ts: each finding fires on its case, and a clean single-device key has none.
import { describe, expect, it } from 'vitest';
import { LINT_CODES, lintKey, type LintCode, type LintEnv } from '../../../src-main/core/key-lint.ts';
import type { AccessKey } from '../../../src-main/core/types.ts';
import { accessKey, device, tag } from '../../helpers/core-fixtures.ts';

const now = new Date('2026-03-01T00:00:00.000Z');
const a = device({ tags: [tag('type', 'thermo')] });
const b = device({ tags: [tag('type', 'thermo')] });
const devices = [a, b];
const clean = (over: Partial<AccessKey> = {}): AccessKey => ({
  ...accessKey({ deviceIds: [a.id], lastUsed: '2026-02-28T00:00:00.000Z', ...over }).record,
});
const env = (keys: AccessKey[] = []): LintEnv => ({ devices, keys, now });
const codes = (k: AccessKey, keys: AccessKey[] = [k]): LintCode[] => lintKey(k, env(keys)).map((f) => f.code);

describe('lintKey', () => {
  it('finds nothing on a clean single-device key', () => {
    const k = clean({ filterType: 'whitelist', pubTopics: ['sensors/+'], subTopics: ['cmd/a'] });
    expect(lintKey(k, env([k]))).toEqual([]);
  });

  const cases: Array<[LintCode, () => AccessKey, (() => AccessKey[]) | undefined]> = [
    ['key.all-devices', () => clean({ deviceIds: [] }), undefined],
    ['scope.many-devices', () => clean({ deviceIds: [], deviceTags: [{ key: 'type', value: 'thermo' }] }), undefined],
    ['topics.filter-all', () => clean({ filterType: 'all' }), undefined],
    ['topics.wildcard-whitelist', () => clean({ filterType: 'whitelist', pubTopics: ['#'] }), undefined],
    ['topics.wildcard-whitelist', () => clean({ filterType: 'whitelist', subTopics: ['+/#'] }), undefined],
    ['address.any', () => clean({ addressFilterType: 'whitelist', addresses: ['0.0.0.0/0'] }), undefined],
    ['address.any', () => clean({ addressFilterType: 'whitelist', addresses: ['::/0'] }), undefined],
    ['topics.shadowed', () => clean({ filterType: 'whitelist', pubTopics: ['a/#', 'a/b'] }), undefined],
    ['topics.shadowed', () => clean({ filterType: 'blacklist', subTopics: ['x/+', 'x/+'] }), undefined],
    ['topics.ignored', () => clean({ filterType: 'none', pubTopics: ['a/b'] }), undefined],
    [
      'tags.match-nothing',
      () => clean({ deviceIds: [], deviceTags: [{ key: 'type', value: 'none-such' }] }),
      undefined,
    ],
    ['key.never-used', () => clean({ lastUsed: undefined } as Partial<AccessKey>), undefined],
    ['key.unused-30-days', () => clean({ lastUsed: '2026-01-15T00:00:00.000Z' }), undefined],
  ];
  it.each(cases)('%s fires on its case', (code, make) => {
    const k = make();
    if (k.lastUsed === undefined) delete (k as { lastUsed?: string }).lastUsed;
    expect(codes(k)).toContain(code);
    expect(codes(k).filter((c) => c !== code && c !== 'key.all-devices' && c !== 'scope.many-devices')).toEqual([]);
  });

  it('devices.shared-key fires when another ACTIVE key admits the same device, not for an inactive one', () => {
    const k = clean();
    const other = clean();
    expect(codes(k, [k, other])).toEqual(['devices.shared-key']);
    expect(lintKey(k, env([k, other]))[0]?.message).toContain(other.id);
    expect(codes(k, [k, { ...other, status: 'inactive' }])).toEqual([]);
  });

  it('every finding has a code from the closed list, a sentence and a fix', () => {
    const k = clean({ deviceIds: [], filterType: 'all', addressFilterType: 'whitelist', addresses: ['0.0.0.0/0'] });
    for (const f of lintKey(k, env([k, clean()]))) {
      expect(LINT_CODES).toContain(f.code);
      expect(f.message.length).toBeGreaterThan(10);
      expect(f.fix.length).toBeGreaterThan(10);
    }
  });
});
