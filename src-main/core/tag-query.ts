// Tag conditions in advanced queries (docs/design.md §10): the one compiler behind a device query's `tags`
// and a key query's `deviceTags`, so the two cannot drift apart again (issue 11). The shapes are
// those of Losant's schemas (losant-rest `advancedDeviceQuery.tags`, `advancedApplicationKeyQuery
// .deviceTags`, identical): null, {"$tagKey": K, "$tagValue": V} (either or both), {"tagKey": V, …},
// or one of those under {"$eq": …} / {"$ne": …}.
//
// The rule, one for every form: a tag condition describes ONE tag, and it holds when SOME tag of
// the record satisfies it (Mongo's $elemMatch); {"$ne": cond} holds when NO tag does.
//  - {"$tagKey": K}               some tag whose key satisfies K
//  - {"$tagValue": V}             some tag whose value satisfies V
//  - {"$tagKey": K, "$tagValue": V}  some single tag satisfying both
//  - {"type": V, "floor": W}      some tag type=V AND some tag floor=W (each entry on its own)
//  - K, V or a pair's value null: that side is unconstrained (any key / any value), so
//    {"type": null} is "has a tag named type", like Losant's `type=*` wildcard.
//  - null (no condition object): the record has no tags at all.
// So {"$tagKey": {"$ne": "type"}} is "has a tag whose key is not type", for keys and devices alike;
// "has no tag named type" is {"$ne": {"$tagKey": "type"}}.
//
// Records' tag items may lack a key or a value (an access key's deviceTags item `{value: "2"}`);
// a missing side is absent, as a missing field is for any operator ($eq fails, $ne holds).
import { compileValueMatcher, type FieldCompiler, type ValueMatcher } from './advanced-query.ts';
import { QueryError, childPath, isJsonObject, show, type Json, type Predicate } from './query-input.ts';

/** A tag as a query sees it: device tags have both sides; key restriction items may have one. */
export interface TagLike {
  readonly key?: string | undefined;
  readonly value?: string | undefined;
}

type TagTest = (t: TagLike) => boolean;

const TAG_KEY = /^[0-9a-zA-Z_-]{1,255}$/;
const TAG_OPERATORS: readonly string[] = ['$tagKey', '$tagValue'];
/** Inside tag conditions a bare null means "any" (see side()); null inside operators is refused. */
const TAG_DOMAIN = { kind: 'string', allowNull: false } as const;
const NO_TAGS: readonly TagLike[] = [];

/** One side of a tag (its key or its value); null → undefined (unconstrained). */
function side(spec: Json | undefined, path: string): ValueMatcher | undefined {
  return spec === undefined || spec === null ? undefined : compileValueMatcher(spec, path, TAG_DOMAIN);
}

function tagTest(km: ValueMatcher | undefined, vm: ValueMatcher | undefined): TagTest {
  if (km && vm) return (t) => km.one(t.key) && vm.one(t.value);
  if (km) return (t) => km.one(t.key);
  if (vm) return (t) => vm.one(t.value);
  return () => true;
}

/** A tag condition object → the tag tests that must each be met by some tag. */
function compileCondition(spec: Json, path: string): TagTest[] {
  if (!isJsonObject(spec) || Object.keys(spec).length === 0) {
    throw new QueryError(
      path,
      'must be a non-empty object such as {"$tagKey": "type"}, {"$tagValue": "thermostat"} or {"type": "thermostat"}',
    );
  }
  const keys = Object.keys(spec);
  if (keys.some((k) => TAG_OPERATORS.includes(k))) {
    for (const k of keys) {
      if (!TAG_OPERATORS.includes(k)) {
        throw new QueryError(
          childPath(path, k),
          k.startsWith('$')
            ? `unknown operator ${show(k)} (allowed next to $tagKey/$tagValue: ${TAG_OPERATORS.join(', ')})`
            : 'cannot mix {"tagKey": value} pairs with $tagKey/$tagValue in one object; use $and',
        );
      }
    }
    const km = side(spec['$tagKey'], childPath(path, '$tagKey'));
    const vm = side(spec['$tagValue'], childPath(path, '$tagValue'));
    return [tagTest(km, vm)];
  }
  return keys.map((name) => {
    const p = childPath(path, name);
    if (name.startsWith('$')) {
      throw new QueryError(
        p,
        `unknown operator ${show(name)} (allowed in a tag condition: $tagKey, $tagValue, or {"tagKey": value}; around it: $eq, $ne)`,
      );
    }
    if (!TAG_KEY.test(name))
      throw new QueryError(p, `${show(name)} is not a valid tag key (letters, digits, _ and -, 1-255 characters)`);
    const vm = side(spec[name], p);
    return vm ? (t: TagLike) => t.key === name && vm.one(t.value) : (t: TagLike) => t.key === name;
  });
}

function someTag(tests: readonly TagTest[]): Predicate<readonly TagLike[]> {
  const [only] = tests;
  if (tests.length === 1 && only) return (tags) => tags.some(only);
  return (tags) => tests.every((test) => tags.some(test));
}

/** Compiles the condition given for a tag field (the whole value of `tags` / `deviceTags`). */
function compileTagField(spec: Json, path: string): Predicate<readonly TagLike[]> {
  if (spec === null) return (tags) => tags.length === 0;
  if (isJsonObject(spec)) {
    const keys = Object.keys(spec);
    const [only] = keys;
    if (keys.length === 1 && (only === '$eq' || only === '$ne')) {
      const innerSpec = spec[only] as Json;
      if (isWrapper(innerSpec)) throw new QueryError(childPath(path, only), `${only} cannot hold another $eq/$ne`);
      const inner = compileTagField(innerSpec, childPath(path, only));
      return only === '$eq' ? inner : (tags) => !inner(tags);
    }
  }
  return someTag(compileCondition(spec, path));
}

function isWrapper(spec: Json): boolean {
  if (!isJsonObject(spec)) return false;
  const keys = Object.keys(spec);
  return keys.length === 1 && (keys[0] === '$eq' || keys[0] === '$ne');
}

/** A field compiler for a record's tag list (missing list = no tags). */
export function tagsField<T>(get: (r: T) => readonly TagLike[] | undefined): FieldCompiler<T> {
  return (spec, path) => {
    const test = compileTagField(spec, path);
    return (r) => test(get(r) ?? NO_TAGS);
  };
}
