// A key's custom-topic rules (docs/design.md §5): `filterType` with `pubTopics` / `subTopics`.
// Validation at save time, and the per-topic / per-filter decisions for CUSTOM topics — topics
// that are neither system (`$…`) nor Losant-reserved (`losant`, `losant/…`); the caller routes
// those elsewhere before asking here. Pure code.

import { allow, deny } from './types.ts';
import type { Decision, FieldError, TopicFilterType } from './types.ts';
import { filterCovers, filtersIntersect, topicMatches, validateTopicFilter } from './topics.ts';

/**
 * Most entries in `pubTopics` or in `subTopics`. Same bound as the key's other lists (tags,
 * addresses), and it bounds the work of a whitelist/blacklist check, which runs on every PUBLISH
 * and every delivery.
 */
export const MAX_TOPIC_RULES = 100;

export type TopicRuleList = 'pubTopics' | 'subTopics';

const quoted = new Map<string, string>();

/** Quote a rule or topic for a message; very long ones are shortened. */
function q(s: string): string {
  // Rule texts are built for every PUBLISH and delivery; the same few rules are quoted each time.
  let out = quoted.get(s);
  if (out === undefined) {
    out = JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}...` : s);
    if (quoted.size >= 1024) quoted.clear(); // bounded: rules are user data
    quoted.set(s, out);
  }
  return out;
}

/**
 * null when `rule` may be stored in pubTopics/subTopics, else a message naming the problem:
 * it must be a valid MQTT topic filter (wildcards allowed), not a system topic (`$…`) and not
 * Losant-reserved (`losant` or `losant/…`, whose access follows the key's device scope instead).
 */
export function validateTopicRule(rule: string): string | null {
  if (rule.length === 0) return 'a topic rule cannot be empty';
  const invalid = validateTopicFilter(rule);
  if (invalid !== null) return `${q(rule)} is not a valid MQTT topic filter: ${invalid}`;
  if (rule.startsWith('$')) return `${q(rule)} is a system topic; rules cannot start with "$"`;
  if (rule === 'losant' || rule.startsWith('losant/')) {
    return `${q(rule)} is reserved by Losant; rules cannot be "losant" or start with "losant/"`;
  }
  return null;
}

/**
 * Validate a whole pubTopics/subTopics value: an array of at most MAX_TOPIC_RULES strings, each
 * passing validateTopicRule. Errors name the entry, e.g. `pubTopics[2]`. An over-long array gets
 * one error and its entries are not examined.
 */
export function validateTopicRules(field: TopicRuleList, rules: unknown): FieldError[] {
  if (!Array.isArray(rules)) return [{ field, message: `${field} must be an array of strings` }];
  if (rules.length > MAX_TOPIC_RULES) {
    return [{ field, message: `${field} has ${rules.length} entries; at most ${MAX_TOPIC_RULES} are allowed` }];
  }
  const errors: FieldError[] = [];
  rules.forEach((rule: unknown, i: number) => {
    const entry = `${field}[${i}]`;
    if (typeof rule !== 'string') {
      const got = rule === null ? 'null' : Array.isArray(rule) ? 'array' : typeof rule;
      errors.push({ field: entry, message: `each entry must be a string (got ${got})` });
      return;
    }
    const message = validateTopicRule(rule);
    if (message !== null) errors.push({ field: entry, message });
  });
  return errors;
}

const NONE_RULE = 'filterType none: no custom topics';
const ALL_RULE = 'filterType all';

// customTopicDecision runs for every PUBLISH and every delivery, and its outcomes are a handful of
// values (one per rule entry at most): they are made once and shared, frozen.
type Fixed = Readonly<Record<TopicRuleList, Decision>>;
const fixed = (make: (list: TopicRuleList) => Decision): Fixed =>
  Object.freeze({ pubTopics: Object.freeze(make('pubTopics')), subTopics: Object.freeze(make('subTopics')) });
const okReason = (list: TopicRuleList) => (list === 'pubTopics' ? 'publish.allowed' : 'deliver.allowed');
const NONE_DENIED: Decision = Object.freeze(deny('topic.custom-none', NONE_RULE));
const ALL_ALLOWED = fixed((list) => allow(okReason(list), ALL_RULE));
const NOT_WHITELISTED = fixed((list) => deny('topic.not-whitelisted', `${list} whitelist (no entry matches)`));
const NOT_BLACKLISTED = fixed((list) => allow(okReason(list), `${list} blacklist (no entry matches)`));
const byEntry = () => ({ pubTopics: new Map<string, Decision>(), subTopics: new Map<string, Decision>() });
const WHITELISTED = byEntry();
const BLACKLISTED = byEntry();

/**
 * The shared decision naming one matching entry (bounded cache: rules are user data). Made here
 * from its parts, not by a callback: a closure per call was a PUBLISH's largest allocation after
 * its decision event (issue 17 item 1).
 */
function entryDecision(list: TopicRuleList, rule: string, whitelist: boolean): Decision {
  const cache = (whitelist ? WHITELISTED : BLACKLISTED)[list];
  let d = cache.get(rule);
  if (d === undefined) {
    if (cache.size >= 1024) cache.clear();
    d = whitelist
      ? allow(okReason(list), `${list} whitelist entry ${q(rule)}`)
      : deny('topic.blacklisted', `${list} blacklist entry ${q(rule)}`);
    cache.set(rule, Object.freeze(d));
  }
  return d;
}

/**
 * PUBLISH (list = pubTopics) or delivery (list = subTopics) of a concrete custom topic name.
 * whitelist: allowed iff some entry matches; blacklist: denied iff some entry matches. The
 * decision's rule names the entry that decided (the first one that matches). The returned
 * Decision is shared and frozen.
 */
export function customTopicDecision(
  filterType: TopicFilterType,
  rules: readonly string[],
  topic: string,
  list: TopicRuleList,
): Decision {
  switch (filterType) {
    case 'none':
      return NONE_DENIED;
    case 'all':
      return ALL_ALLOWED[list];
    case 'whitelist': {
      // Indexed loops: a for-of here made an array iterator and a result object per PUBLISH and
      // per delivery (seen in an allocation profile; issue 17 item 1).
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i] as string;
        if (topicMatches(rule, topic)) return entryDecision(list, rule, true);
      }
      return NOT_WHITELISTED[list];
    }
    case 'blacklist': {
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i] as string;
        if (topicMatches(rule, topic)) return entryDecision(list, rule, false);
      }
      return NOT_BLACKLISTED[list];
    }
  }
}

/** customTopicDecision(...).allowed, without building the decision (the delivery fast path). */
export function customTopicAllowed(filterType: TopicFilterType, rules: readonly string[], topic: string): boolean {
  switch (filterType) {
    case 'none':
      return false;
    case 'all':
      return true;
    case 'whitelist':
      for (let i = 0; i < rules.length; i++) if (topicMatches(rules[i] as string, topic)) return true;
      return false;
    case 'blacklist':
      for (let i = 0; i < rules.length; i++) if (topicMatches(rules[i] as string, topic)) return false;
      return true;
  }
}

/**
 * SUBSCRIBE of a filter on custom topics (checked against subTopics). The filter is granted iff
 * at least one custom topic it can match is allowed (docs/design.md §5):
 * - whitelist: granted iff the filter intersects some entry. Since rules never start with `$` or
 *   `losant`, and the caller has routed filters whose first level is `$…` or `losant` elsewhere,
 *   any intersection contains a custom topic.
 * - blacklist: denied only when a single entry covers the WHOLE filter (every topic it matches
 *   is blacklisted). A filter that is only partly blacklisted is granted: that is safe because
 *   every delivery is re-checked per topic with customTopicDecision (aedes authorizeForward), so
 *   blacklisted topics never reach the client. (Several entries that together cover the filter
 *   without any one covering it also grant a subscription that will receive nothing; harmless.)
 */
export function customFilterDecision(filterType: TopicFilterType, rules: readonly string[], filter: string): Decision {
  switch (filterType) {
    case 'none':
      return deny('topic.custom-none', NONE_RULE);
    case 'all':
      return allow('subscribe.granted', ALL_RULE);
    case 'whitelist': {
      for (const rule of rules) {
        if (filtersIntersect(filter, rule)) return allow('subscribe.granted', `subTopics whitelist entry ${q(rule)}`);
      }
      return deny('topic.not-whitelisted', 'subTopics whitelist (no entry overlaps the filter)');
    }
    case 'blacklist': {
      for (const rule of rules) {
        if (filterCovers(rule, filter)) return deny('topic.blacklisted', `subTopics blacklist entry ${q(rule)}`);
      }
      return allow('subscribe.granted', 'subTopics blacklist (no entry covers the whole filter)');
    }
  }
}
