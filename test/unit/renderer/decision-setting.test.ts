// src-renderer/components/decisions/decision-setting.ts: what a decision row opens to.
import { describe, expect, it } from 'vitest';
import { decidingSetting, forwardedChain } from '../../../src-renderer/components/decisions/decision-setting.ts';

describe('decidingSetting', () => {
  it('names the key section and fields for key-decided refusals', () => {
    expect(decidingSetting({ reason: 'address.denied', action: 'connect', result: 'denied' })).toEqual({
      where: 'Access key: Connection Restrictions',
      fields: 'allowedAddresses / deniedAddresses',
    });
    expect(decidingSetting({ reason: 'topic.not-whitelisted', action: 'publish', result: 'denied' }).fields).toMatch(
      /whitelist/,
    );
    expect(decidingSetting({ reason: 'limit.banned', action: 'connect', result: 'denied' }).where).toMatch(/limits/);
    expect(decidingSetting({ reason: 'connect.accepted', action: 'connect', result: 'allowed' }).where).toMatch(
      /every CONNECT check passed/,
    );
  });
});

describe('forwardedChain', () => {
  it('splits the header into hops, client first, dropping empty ones', () => {
    expect(forwardedChain('203.0.113.7, 198.51.100.2,,10.0.0.1 ')).toEqual(['203.0.113.7', '198.51.100.2', '10.0.0.1']);
    expect(forwardedChain(undefined)).toEqual([]);
  });
});
