// The key linter (docs/design.md §12a): what about an access key is broader, riskier or deader
// than it looks. Pure: the caller passes the key, the devices and the other keys as they are now.
// Findings are advice, never errors: a key with findings still saves and still works.
//
// Losant's guidance behind `key.all-devices` and `scope.many-devices`: the Access Key: Create node
// (https://docs.losant.com/workflows/data/access-key-create) marks "only the following devices can
// use the Access Key" as recommended over "all devices", and Losant's device-registration guide
// (https://docs.losant.com/guides/how-to-build-an-experience-api/device-registration/) creates a
// device and access key PAIR for each device. A key shared by many devices cannot be revoked for
// one of them without cutting off the rest.
import {
  deviceMatches,
  describeTag,
  isAllDevices,
  resolveScope,
  scanTagLookup,
  tagMatchesItem,
} from './device-scope.ts';
import { filterCovers } from './topics.ts';
import type { AccessKey, Device } from './types.ts';

export const LINT_CODES = [
  'key.all-devices',
  'scope.many-devices',
  'topics.filter-all',
  'topics.wildcard-whitelist',
  'address.any',
  'topics.shadowed',
  'topics.ignored',
  'tags.match-nothing',
  'key.never-used',
  'key.unused-30-days',
  'devices.shared-key',
] as const;
export type LintCode = (typeof LINT_CODES)[number];

export interface LintFinding {
  code: LintCode;
  /** What is wrong, in one sentence. */
  message: string;
  /** What to do about it. */
  fix: string;
}

export interface LintEnv {
  devices: readonly Device[];
  /** Every key (this one included or not): used for devices.shared-key. */
  keys: readonly AccessKey[];
  now: Date;
}

export const UNUSED_DAYS = 30;
const DAY_MS = 86_400_000;
const ANY_ADDRESS = new Set(['0.0.0.0/0', '::/0']);
const MATCH_ALL = new Set(['#', '+/#']);

function topicFindings(key: AccessKey, out: LintFinding[]): void {
  if (key.filterType === 'all')
    out.push({
      code: 'topics.filter-all',
      message: 'filterType all lets the devices publish and subscribe to every custom topic',
      fix: 'use filterType whitelist with the topics the devices need in pubTopics/subTopics',
    });
  const lists = [
    ['pubTopics', key.pubTopics],
    ['subTopics', key.subTopics],
  ] as const;
  if (key.filterType === 'none' || key.filterType === 'all') {
    for (const [name, list] of lists)
      if (list.length)
        out.push({
          code: 'topics.ignored',
          message: `${name} has ${list.length} entr${list.length === 1 ? 'y' : 'ies'} that can never match: filterType ${key.filterType} ignores the lists`,
          fix: `set filterType to whitelist or blacklist, or clear ${name}`,
        });
    return;
  }
  for (const [name, list] of lists) {
    if (key.filterType === 'whitelist')
      for (const entry of list)
        if (MATCH_ALL.has(entry))
          out.push({
            code: 'topics.wildcard-whitelist',
            message: `${name} whitelist entry "${entry}" allows every custom topic`,
            fix: `replace "${entry}" with the topics the devices use (e.g. "sensors/+/temperature")`,
          });
    list.forEach((entry, i) => {
      const by = list.findIndex((other, j) => j !== i && filterCovers(other, entry) && (other !== entry || j < i));
      const other = list[by];
      if (by >= 0 && other !== undefined)
        out.push({
          code: 'topics.shadowed',
          message: `${name}[${i}] "${entry}" never decides anything: ${name}[${by}] "${other}" already matches every topic it matches`,
          fix: `remove "${entry}" from ${name}`,
        });
    });
  }
}

function scopeFindings(key: AccessKey, env: LintEnv, out: LintFinding[]): void {
  if (isAllDevices(key)) {
    out.push({
      code: 'key.all-devices',
      message: 'the key admits every device of the application, including ones added later',
      fix: 'create one key per device (keyport keys create --device ID); Losant recommends restricting keys to devices',
    });
    return;
  }
  for (const item of key.deviceTags ?? []) {
    if (!env.devices.some((d) => d.tags.some((t) => tagMatchesItem(item, t))))
      out.push({
        code: 'tags.match-nothing',
        message: `deviceTags entry "${describeTag(item)}" matches no device now`,
        fix: `tag a device ${describeTag(item)}, or create a key for the intended devices (restrictions cannot be edited)`,
      });
  }
  const scope = resolveScope(
    key,
    scanTagLookup(() => env.devices),
  );
  const count =
    scope.kind === 'devices' ? [...scope.ids].filter((id) => env.devices.some((d) => d.id === id)).length : 0;
  if (count > 1)
    out.push({
      code: 'scope.many-devices',
      message: `the key admits ${count} devices; one leaked secret speaks for all of them`,
      fix: 'create one key per device so each can be revoked alone (Losant pairs a key with each device)',
    });
}

function useFindings(key: AccessKey, env: LintEnv, out: LintFinding[]): void {
  if (key.lastUsed === undefined) {
    out.push({
      code: 'key.never-used',
      message: 'no device has ever connected with this key',
      fix: 'connect a device with it, or delete it if it is not needed',
    });
    return;
  }
  const days = Math.floor((env.now.getTime() - Date.parse(key.lastUsed)) / DAY_MS);
  if (days >= UNUSED_DAYS)
    out.push({
      code: 'key.unused-30-days',
      message: `the key was last used ${days} days ago (${key.lastUsed})`,
      fix: 'set it inactive or delete it if the device is retired',
    });
}

function sharedFindings(key: AccessKey, env: LintEnv, out: LintFinding[]): void {
  if (key.status !== 'active') return;
  const others = env.keys.filter((k) => k.id !== key.id && k.status === 'active');
  const shared: string[] = [];
  const by = new Set<string>();
  for (const d of env.devices) {
    if (!deviceMatches(key, d)) continue;
    const also = others.filter((k) => deviceMatches(k, d));
    if (also.length === 0) continue;
    shared.push(d.id);
    for (const k of also) by.add(k.id);
  }
  if (shared.length === 0) return;
  const first = shared.slice(0, 5).join(', ') + (shared.length > 5 ? ` and ${shared.length - 5} more` : '');
  out.push({
    code: 'devices.shared-key',
    message: `${shared.length === 1 ? 'device' : `${shared.length} devices`} (${first}) ${shared.length === 1 ? 'is' : 'are'} also admitted by other active keys: ${[...by].join(', ')}`,
    fix: 'keep one active key per device: set the others inactive or delete them',
  });
}

/** Findings about how a key is used: left out of the warnings shown when a key is created. */
export const USE_CODES: readonly LintCode[] = ['key.never-used', 'key.unused-30-days'];

/** Every finding for one key, in a stable order (scope, topics, addresses, use, sharing). */
export function lintKey(key: AccessKey, env: LintEnv): LintFinding[] {
  const out: LintFinding[] = [];
  scopeFindings(key, env, out);
  topicFindings(key, out);
  if (key.addressFilterType === 'whitelist')
    for (const a of key.addresses)
      if (ANY_ADDRESS.has(a.trim()))
        out.push({
          code: 'address.any',
          message: `addresses whitelist entry "${a}" admits every ${a.includes(':') ? 'IPv6' : 'IPv4'} address`,
          fix: 'list the networks the devices connect from (e.g. 192.168.1.0/24), or use addressFilterType all',
        });
  useFindings(key, env, out);
  sharedFindings(key, env, out);
  return out;
}
