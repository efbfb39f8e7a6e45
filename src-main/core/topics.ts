// MQTT 3.1.1 topic names and topic filters: validation, matching, and filter-vs-filter relations
// (intersection and coverage) used by the custom-topic rules (docs/design.md §5). Pure code, no imports.
//
// Terms: a topic NAME is what a PUBLISH carries (no wildcards); a topic FILTER is what a
// SUBSCRIBE carries (may contain `+` and `#`). Both are split into LEVELS by `/`; levels may be
// empty ("a//b" has an empty middle level, "a/" has an empty last level and differs from "a").
// Comparison is character by character with no normalisation [MQTT-4.7.3-4].

/** Longest topic name / filter, in UTF-8 bytes: the 2-byte length prefix [MQTT-4.7.3-3]. */
export const MAX_TOPIC_BYTES = 65535;

/**
 * Most levels in a topic name or filter (our limit; MQTT sets none). Production brokers cap
 * depth too — AWS IoT Core allows 8 levels (7 slashes), EMQX's `max_topic_levels` defaults to
 * 128 — because matching work grows with depth. 100 is far beyond any real device topic tree,
 * and it stops a client from making every publish walk a 30,000-level topic ("////…").
 */
export const MAX_TOPIC_LEVELS = 100;

const SLASH = 0x2f; // '/'
const PLUS = 0x2b; // '+'
const HASH = 0x23; // '#'
const DOLLAR = 0x24; // '$'

/** One pass over the string: UTF-8 length, level count, U+0000, surrogates and wildcards. */
function check(s: string, isFilter: boolean): string | null {
  const what = isFilter ? 'topic filter' : 'topic name';
  const n = s.length;
  // [MQTT-4.7.3-1] topic names and filters must be at least one character long.
  if (n === 0) return `${what} is empty`;
  let bytes = 0;
  let levels = 1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      bytes += 1;
      if (c === SLASH) {
        levels++;
      } else if (c === 0) {
        // [MQTT-4.7.3-2] / [MQTT-1.5.3-2]: no U+0000 in topic names or filters.
        return `${what} contains the null character U+0000`;
      } else if (c === PLUS || c === HASH) {
        const ch = c === PLUS ? '+' : '#';
        // [MQTT-4.7.1-1] / [MQTT-3.3.2-2]: wildcards are never allowed in a topic name.
        if (!isFilter) return `topic name contains "${ch}"; wildcards are only allowed in subscription filters`;
        const wholeLevel = (i === 0 || s.charCodeAt(i - 1) === SLASH) && (i === n - 1 || s.charCodeAt(i + 1) === SLASH);
        // [MQTT-4.7.1-3] `+` must occupy an entire level.
        if (c === PLUS && !wholeLevel) return `"+" must occupy a whole level (like "a/+/b")`;
        // [MQTT-4.7.1-2] `#` must be a whole level and the last one.
        if (c === HASH && (!wholeLevel || i !== n - 1)) return `"#" must be the whole last level (like "a/#")`;
      }
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      // [MQTT-1.5.3-1] an unpaired surrogate has no UTF-8 encoding.
      if (d < 0xdc00 || d > 0xdfff) return `${what} contains an unpaired UTF-16 surrogate (not valid UTF-8)`;
      bytes += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return `${what} contains an unpaired UTF-16 surrogate (not valid UTF-8)`;
    } else {
      bytes += 3;
    }
  }
  if (bytes > MAX_TOPIC_BYTES) {
    return `${what} is ${bytes} bytes in UTF-8; at most ${MAX_TOPIC_BYTES} are allowed`;
  }
  if (levels > MAX_TOPIC_LEVELS) {
    return `${what} has ${levels} levels; at most ${MAX_TOPIC_LEVELS} are allowed`;
  }
  return null;
}

/** null when `topic` is a valid MQTT topic name (what a PUBLISH carries), else why not. */
export function validateTopicName(topic: string): string | null {
  return check(topic, false);
}

/** null when `filter` is a valid MQTT topic filter (what a SUBSCRIBE carries), else why not. */
export function validateTopicFilter(filter: string): string | null {
  return check(filter, true);
}

/** True when the first level of `s` is exactly `+` or `#`. */
function startsWithWildcard(s: string): boolean {
  const c = s.charCodeAt(0);
  return (c === PLUS || c === HASH) && (s.length === 1 || s.charCodeAt(1) === SLASH);
}

/**
 * Does `filter` match the topic name `topic`? Both are assumed valid (a wildcard character
 * that is not a whole level is compared literally). Hot path (every PUBLISH and delivery):
 * walks both strings by index, allocates nothing, no regex.
 */
export function topicMatches(filter: string, topic: string): boolean {
  // [MQTT-4.7.2-1] a filter starting with a wildcard must not match a topic starting with `$`.
  if (topic.charCodeAt(0) === DOLLAR && startsWithWildcard(filter)) return false;
  const fl = filter.length;
  const tl = topic.length;
  let fi = 0; // start of the current filter level
  let ti = 0; // start of the current topic level
  for (;;) {
    let fe = filter.indexOf('/', fi);
    if (fe < 0) fe = fl;
    const flen = fe - fi;
    // `#` matches this level and everything below it [MQTT-4.7.1-2].
    if (flen === 1 && filter.charCodeAt(fi) === HASH) return true;
    let te = topic.indexOf('/', ti);
    if (te < 0) te = tl;
    // `+` matches exactly one level, including an empty one; otherwise compare literally.
    if (flen !== 1 || filter.charCodeAt(fi) !== PLUS) {
      if (te - ti !== flen) return false;
      for (let k = 0; k < flen; k++) {
        if (filter.charCodeAt(fi + k) !== topic.charCodeAt(ti + k)) return false;
      }
    }
    if (fe === fl) return te === tl; // filter used up: the topic must be too
    // Topic used up: only a trailing "/#" still matches — `#` also matches the parent level.
    if (te === tl) return fl === fe + 2 && filter.charCodeAt(fe + 1) === HASH;
    fi = fe + 1;
    ti = te + 1;
  }
}

function isWild(level: string): boolean {
  return level === '+' || level === '#';
}

/**
 * True iff some valid topic name matches both filters (both assumed valid). Used to decide
 * whether a SUBSCRIBE filter overlaps a whitelist rule.
 */
export function filtersIntersect(a: string, b: string): boolean {
  const A = a.split('/');
  const B = b.split('/');
  const a0 = A[0] ?? '';
  const b0 = B[0] ?? '';
  // [MQTT-4.7.2-1] a wildcard first level never reaches a `$` topic, and a literal `$…` first
  // level only names `$` topics, so the two share nothing.
  if ((isWild(a0) && b0.startsWith('$')) || (isWild(b0) && a0.startsWith('$'))) return false;
  for (let i = 0; ; i++) {
    const x = A[i];
    const y = B[i];
    if (x === '#' || y === '#') return true; // the other filter's topics (with this prefix) fit
    if (x === undefined || y === undefined) {
      // One filter is used up: they meet only if the other ends here too (a trailing `#` was
      // handled above — it matches the parent level).
      return x === undefined && y === undefined;
    }
    if (x !== '+' && y !== '+' && x !== y) return false;
  }
}

/**
 * True iff EVERY topic name matched by `inner` is also matched by `outer` (both assumed valid).
 * Used to decide whether a blacklist rule shuts a SUBSCRIBE filter out completely.
 * Examples: `#` covers `a/#`, `+/+` and `+`; `a/#` covers `a` and `a/b/#`; `+` does not cover
 * `#`; `a/+` does not cover `a/#` (which also matches `a` and `a/b/c`); neither `#` nor `+/x`
 * covers `$SYS/x`.
 */
export function filterCovers(outer: string, inner: string): boolean {
  const O = outer.split('/');
  const I = inner.split('/');
  for (let i = 0; ; i++) {
    const o = O[i];
    const n = I[i];
    if (o === undefined) return n === undefined; // outer ends: inner must end at the same depth
    if (o === '#') {
      // Covers any tail, including none (the parent). At the first level, [MQTT-4.7.2-1]: `#`
      // misses every `$` topic, so an inner filter naming one (a literal `$…`) is not covered.
      return !(i === 0 && n !== undefined && !isWild(n) && n.startsWith('$'));
    }
    if (n === undefined) return false; // outer needs another level that inner's topics lack
    if (n === '#') {
      // Inner matches its parent plus any tail; at i = 0 any topic of ≥ 1 level not starting
      // with `$` — which `+/#` also matches (level one by `+`, the rest by `#`). Anything else
      // requires or forbids some level.
      return i === 0 && o === '+' && O.length === 2 && O[1] === '#';
    }
    if (o === '+') {
      // [MQTT-4.7.2-1] a first-level `+` misses `$` topics that a literal `$…` would name.
      if (i === 0 && n !== '+' && n.startsWith('$')) return false;
      continue; // `+` covers any single level, literal or `+`
    }
    if (n !== o) return false; // a literal covers only the identical literal
  }
}
