// One-line summary of a key's restrictions, for lists (CLI and UI alike).
import { describeRestriction } from './device-scope.ts';
import type { AccessKey } from './types.ts';

export function restrictionSummary(k: AccessKey): string {
  const parts = [describeRestriction(k)];
  if (k.addressFilterType !== 'all')
    parts.push(`${k.addressFilterType === 'whitelist' ? 'only from' : 'not from'} ${k.addresses.join(' ')}`);
  if (k.filterType !== 'none') parts.push(`custom topics: ${k.filterType}`);
  return parts.join('; ');
}
