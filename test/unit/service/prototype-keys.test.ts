// Issue 12 item 6: __proto__, constructor and prototype are refused in every contract request, with
// the path named, instead of being silently dropped or polluting. `{"__proto__":{"status":"inactive"}}`
// as a key query used to be ignored (core/advanced-query.ts copyTree) and return every key.
import { describe, expect, it } from 'vitest';
import { findPrototypeKey, rejectPrototypeKeys } from '../../../src-main/core/prototype-keys.ts';
import { dispatch, type DispatchContext } from '../../../src-main/service/dispatch.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';

const context = (): DispatchContext => ({
  service: new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 5) }),
  dataDir: '/nonexistent',
  listeners: () => null,
});

describe('findPrototypeKey', () => {
  it.each([
    ['{"a":1}', null],
    ['{"a":{"b":[1,{"c":2}]}}', null],
    ['{"__proto__":{"x":1}}', 'body.__proto__'],
    ['{"a":[{"b":1},{"constructor":2}]}', 'body.a[1].constructor'],
    ['[{"x":{"prototype":0}}]', 'body[0].x.prototype'],
    ['{"ok":"constructor"}', null],
  ])('%s → %j', (text, path) => {
    expect(findPrototypeKey(JSON.parse(text), 'body')).toBe(path);
  });

  it('ignores inherited names (every object inherits constructor) and scalars', () => {
    expect(findPrototypeKey({ a: 1 }, 'x')).toBeNull();
    expect(findPrototypeKey('__proto__', 'x')).toBeNull();
    expect(findPrototypeKey(null, 'x')).toBeNull();
  });

  it('rejectPrototypeKeys throws an error naming the path and the rule', () => {
    expect(() => rejectPrototypeKeys(JSON.parse('{"tags":[{"__proto__":{}}]}'), 'body')).toThrow(
      'body.tags[0].__proto__: the property name "__proto__" is not allowed (__proto__, constructor and prototype are refused in every input)',
    );
  });
});

describe('contract requests (dispatch)', () => {
  it('a key query {"__proto__": {"status": "inactive"}} is refused, not ignored (it returned every key)', async () => {
    const ctx = context();
    await ctx.service.keys.create({ name: 'active one' });
    for (const query of ['{"__proto__":{"status":"inactive"}}', JSON.parse('{"__proto__":{"status":"inactive"}}')]) {
      const reply = await dispatch(ctx, 'keys.list', { query });
      expect(reply).toMatchObject({ ok: false });
      expect(JSON.stringify(reply)).toContain('__proto__: the property name \\"__proto__\\" is not allowed');
    }
  });

  it.each([
    ['devices.create', '{"name":"x","__proto__":{"deviceClass":"gateway"}}', 'request.__proto__'],
    ['keys.create', '{"deviceTags":[{"key":"a","constructor":"b"}]}', 'request.deviceTags[0].constructor'],
    ['simulator.runScenario', '{"name":"tag-scope","prototype":1}', 'request.prototype'],
  ])('%s with %s → bad-request naming %s, nothing stored', async (method, text, path) => {
    const ctx = context();
    const reply = await dispatch(ctx, method, JSON.parse(text));
    expect(reply).toEqual({
      ok: false,
      error: { code: 'bad-request', message: expect.stringContaining(`${method}: ${path}: the property name`) },
    });
    expect(ctx.service.devices.list()).toEqual([]);
    expect(ctx.service.keys.list()).toEqual([]);
  });
});
