// Attribute generators and behaviour validation (docs/design.md §7), plus the CLI generator syntax,
// command reactions and the back-off schedule. Pure: no sockets.
import { describe, expect, it } from 'vitest';
import { backoffDelay, backoffOptions } from '../../../src-main/simulator/backoff.ts';
import {
  declaredAttributes,
  defaultBehaviour,
  makeGenerator,
  parseGeneratorSpec,
} from '../../../src-main/simulator/generators.ts';
import { parseBehaviour } from '../../../src-main/core/behaviour-rules.ts';
import { applyReactions, readCommand } from '../../../src-main/simulator/reactions.ts';
import type { CommandReaction, Generator, SimBehaviour } from '../../../src-main/simulator/types.ts';

/** A deterministic rand() cycling through the given values. */
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

/** Great-circle distance in metres. */
function metres(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const r = (d: number) => (d * Math.PI) / 180;
  const h =
    Math.sin(r(b.lat - a.lat) / 2) ** 2 + Math.cos(r(a.lat)) * Math.cos(r(b.lat)) * Math.sin(r(b.lng - a.lng) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
}

describe('makeGenerator', () => {
  it('static returns its value every time', () => {
    const g = makeGenerator({ kind: 'static', value: { mode: 'eco' } });
    expect(g(0)).toEqual({ mode: 'eco' });
    expect(g(100)).toEqual({ mode: 'eco' });
  });

  it('int stays in [min, max], whole numbers, both ends reachable', () => {
    expect(makeGenerator({ kind: 'int', min: 30, max: 70 }, () => 0)(0)).toBe(30);
    expect(makeGenerator({ kind: 'int', min: 30, max: 70 }, () => 0.999999)(0)).toBe(70);
    const g = makeGenerator({ kind: 'int', min: -3, max: 3 });
    for (let i = 0; i < 500; i++) {
      const v = g(i) as number;
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(-3);
      expect(v).toBeLessThanOrEqual(3);
    }
  });

  it('float stays in range with the given decimals (default 2)', () => {
    const g = makeGenerator({ kind: 'float', min: 18, max: 26, decimals: 1 });
    for (let i = 0; i < 500; i++) {
      const v = g(i) as number;
      expect(v).toBeGreaterThanOrEqual(18);
      expect(v).toBeLessThanOrEqual(26);
      expect(Math.round(v * 10) / 10).toBe(v);
    }
    expect(makeGenerator({ kind: 'float', min: 0, max: 1 }, () => 0.123456)(0)).toBe(0.12);
    expect(makeGenerator({ kind: 'float', min: 0, max: 1, decimals: 0 }, () => 0.7)(0)).toBe(1);
  });

  it('string has length n from [a-z0-9]', () => {
    const g = makeGenerator({ kind: 'string', length: 12 });
    for (let i = 0; i < 50; i++) expect(g(i)).toMatch(/^[a-z0-9]{12}$/);
    expect(makeGenerator({ kind: 'string', length: 3 }, () => 0)(0)).toBe('aaa');
  });

  it('boolean gives both values', () => {
    const g = makeGenerator({ kind: 'boolean' }, seq(0.1, 0.9));
    expect([g(0), g(1)]).toEqual([true, false]);
  });

  it('gps: a "lat,lng" string (Losant\'s GPS attribute form) within the radius', () => {
    const centre = { lat: 51.5, lng: -0.12 };
    const point = (v: unknown) => {
      expect(v).toMatch(/^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/);
      const [lat, lng] = String(v).split(',').map(Number) as [number, number];
      return { lat, lng };
    };
    const g = makeGenerator({ kind: 'gps', ...centre, radiusMeters: 500 });
    for (let i = 0; i < 500; i++) {
      expect(metres(centre, point(g(i)))).toBeLessThanOrEqual(501); // 6-decimal rounding is ~0.1 m
    }
    // rand 1 for the distance puts the point on the rim.
    const rim = point(makeGenerator({ kind: 'gps', ...centre, radiusMeters: 1000 }, seq(1, 0))(0));
    expect(metres(centre, rim)).toBeGreaterThan(990);
    expect(makeGenerator({ kind: 'gps', lat: 10, lng: 20, radiusMeters: 0 })(0)).toBe('10,20');
  });

  it('declaredAttributes: each generator declares its data type; untypable behaviours declare none', () => {
    expect(
      declaredAttributes({
        attributes: {
          t: { kind: 'float', min: 0, max: 1 },
          n: { kind: 'int', min: 0, max: 1 },
          s: { kind: 'sine', min: 0, max: 1, periodSeconds: 5 },
          r: { kind: 'ramp', min: 0, max: 1, step: 1 },
          label: { kind: 'string', length: 3 },
          on: { kind: 'boolean' },
          at: { kind: 'gps', lat: 0, lng: 0, radiusMeters: 1 },
          fixed: { kind: 'static', value: 'x' },
        },
      }),
    ).toEqual([
      { name: 't', dataType: 'number' },
      { name: 'n', dataType: 'number' },
      { name: 's', dataType: 'number' },
      { name: 'r', dataType: 'number' },
      { name: 'label', dataType: 'string' },
      { name: 'on', dataType: 'boolean' },
      { name: 'at', dataType: 'gps' },
      { name: 'fixed', dataType: 'string' },
    ]);
    expect(declaredAttributes({ attributes: { o: { kind: 'static', value: { a: 1 } } } })).toBeUndefined();
    expect(
      declaredAttributes({
        attributes: { t: { kind: 'int', min: 0, max: 1 } },
        reactions: [{ command: 'set', set: { setpoint: 'value' } }],
      }),
    ).toBeUndefined();
  });

  it('sine goes min..max over its period', () => {
    const g = makeGenerator({ kind: 'sine', min: 10, max: 30, periodSeconds: 60 });
    expect(g(0)).toBe(20);
    expect(g(15)).toBe(30);
    expect(g(30)).toBeCloseTo(20, 6);
    expect(g(45)).toBe(10);
    expect(g(60)).toBeCloseTo(20, 6);
  });

  it('ramp climbs from min by step and wraps past max', () => {
    const g = makeGenerator({ kind: 'ramp', min: 0, max: 1, step: 0.25 });
    expect(Array.from({ length: 7 }, (_, i) => g(i))).toEqual([0, 0.25, 0.5, 0.75, 1, 0, 0.25]);
    const h = makeGenerator({ kind: 'ramp', min: 1, max: 10, step: 4 });
    expect(Array.from({ length: 4 }, (_, i) => h(i))).toEqual([1, 5, 9, 1]);
  });
});

describe('parseBehaviour (behaviour schema + cross-field rules)', () => {
  const ok: SimBehaviour = {
    attributes: {
      temp: { kind: 'float', min: 18, max: 26 },
      on: { kind: 'boolean' },
      pos: { kind: 'gps', lat: 1, lng: 2, radiusMeters: 10 },
    },
    everySeconds: 5,
    reactions: [{ command: 'set', set: { temp: 'value' } }],
    customPublish: [{ topic: 'sensors/a/temp', qos: 1 }],
    customSubscribe: ['alerts/#'],
    peripherals: ['0123456789abcdef01234567'],
    qos: 1,
  };

  const errorsOf = (b: unknown) => {
    const r = parseBehaviour(b);
    return r.ok ? [] : r.errors.map((e) => e.message);
  };

  it('accepts a full behaviour, the default one, and everySeconds null (on demand)', () => {
    expect(parseBehaviour(ok)).toEqual({ ok: true, value: ok });
    expect(parseBehaviour(defaultBehaviour()).ok).toBe(true);
    expect(parseBehaviour({ attributes: {}, everySeconds: null }).ok).toBe(true);
  });

  it('names the field and the rule', () => {
    expect(errorsOf({ attributes: { temp: { kind: 'float', min: 5, max: 1 } }, everySeconds: 1 })).toEqual([
      'attributes.temp.max: must be ≥ min',
    ]);
    expect(errorsOf({ attributes: { n: { kind: 'int', min: 0.5, max: 3 } }, everySeconds: 1 })).toEqual([
      'attributes.n.min: must be a whole number',
    ]);
    expect(errorsOf({ attributes: { x: { kind: 'noise' } }, everySeconds: 1 })[0]).toMatch(
      /^attributes\.x\.kind: must be one of static, int/,
    );
    expect(errorsOf({ attributes: { s: { kind: 'string', length: 0 } }, everySeconds: 1 })).toEqual([
      'attributes.s.length: must be ≥ 1',
    ]);
    expect(errorsOf({ attributes: { g: { kind: 'gps', lat: 91, lng: 0, radiusMeters: 5 } }, everySeconds: 1 })).toEqual(
      ['attributes.g.lat: must be ≤ 90'],
    );
    expect(
      errorsOf({ attributes: { w: { kind: 'sine', min: 0, max: 1, periodSeconds: 0 } }, everySeconds: 1 }),
    ).toEqual(['attributes.w.periodSeconds: must be > 0']);
    expect(errorsOf({ attributes: { r: { kind: 'ramp', min: 0, max: 1, step: -1 } }, everySeconds: 1 })).toEqual([
      'attributes.r.step: must be > 0',
    ]);
    expect(errorsOf({ attributes: { 'bad name': { kind: 'boolean' } }, everySeconds: 1 })[0]).toMatch(
      /^attributes\.bad name: the name must be/,
    );
    expect(errorsOf({ attributes: { f: { kind: 'float', min: 0, max: 1, decimals: 11 } }, everySeconds: 1 })).toEqual([
      'attributes.f.decimals: must be ≤ 10',
    ]);
  });

  it('limits: at most 50 attributes, everySeconds 0.1-86400 or null', () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, { kind: 'boolean' } as Generator]));
    expect(errorsOf({ attributes: many, everySeconds: 1 })).toEqual([
      'attributes: may hold at most 50 attributes (got 51)',
    ]);
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`a${i}`, { kind: 'boolean' } as Generator]));
    expect(parseBehaviour({ attributes: fifty, everySeconds: 0.1 }).ok).toBe(true);
    expect(parseBehaviour({ attributes: {}, everySeconds: 86_400 }).ok).toBe(true);
    for (const every of [0.05, 86_401, 0, -1, '5', undefined]) {
      expect(errorsOf({ attributes: {}, everySeconds: every })[0], String(every)).toMatch(
        /^everySeconds: must be a number from 0.1 to 86400, or null/,
      );
    }
  });

  it('checks topics, peripherals, reactions, qos and unknown fields', () => {
    const base = { attributes: {}, everySeconds: 1 };
    expect(errorsOf({ ...base, customPublish: [{ topic: 'a/+/b' }] })[0]).toMatch(/^customPublish\[0\]\.topic: /);
    expect(errorsOf({ ...base, customSubscribe: ['a/#/b'] })[0]).toMatch(/^customSubscribe\[0\]: /);
    expect(errorsOf({ ...base, peripherals: ['nope'] })).toEqual([
      'peripherals[0]: must be a device id (24 lowercase hex characters)',
    ]);
    expect(errorsOf({ ...base, reactions: [{ command: '', set: {} }] })).toHaveLength(2);
    expect(errorsOf({ ...base, qos: 2 })).toEqual(['qos: must be 0 or 1']);
    expect(errorsOf({ ...base, colour: 'red' })[0]).toMatch(/^colour: unknown field/);
    expect(errorsOf(null)).toEqual(['behaviour: must be an object {attributes, everySeconds, ...}']);
  });

  it('reports every problem at once: each bad name, and cross-field rules next to shape errors', () => {
    expect(
      errorsOf({
        attributes: {
          'bad name': { kind: 'boolean' },
          'also bad': { kind: 'boolean' },
          t: { kind: 'int', min: 2, max: 1 },
        },
        everySeconds: 1,
        customPublish: [{ topic: 'a/+' }],
        qos: 2,
      }),
    ).toEqual([
      'attributes.bad name: the name must be 1-255 letters, digits, "_" or "-"',
      'attributes.also bad: the name must be 1-255 letters, digits, "_" or "-"',
      'qos: must be 0 or 1',
      'attributes.t.max: must be ≥ min',
      expect.stringMatching(/^customPublish\[0\]\.topic: /),
    ]);
  });

  it("a generator's unknown field lists what its kind allows; a static object is at most 4096 bytes of JSON", () => {
    expect(errorsOf({ attributes: { t: { kind: 'int', min: 1, max: 2, step: 1 } }, everySeconds: 1 })).toEqual([
      'attributes.t.step: unknown field (allowed: kind, min, max)',
    ]);
    const big = { kind: 'static', value: { blob: 'x'.repeat(4096) } };
    expect(errorsOf({ attributes: { b: big }, everySeconds: 1 })).toEqual([
      'attributes.b.value: must be at most 4096 bytes as JSON',
    ]);
  });

  it('a prefix places every path inside a request (simulator.add, createFleet)', () => {
    const r = parseBehaviour({ attributes: { t: { kind: 'sine', min: 0, max: 1, periodSeconds: 0 } } }, 'behaviour');
    expect(r.ok ? [] : r.errors).toEqual([
      {
        field: 'behaviour.everySeconds',
        message: 'behaviour.everySeconds: must be a number from 0.1 to 86400, or null (on demand only)',
      },
      { field: 'behaviour.attributes.t.periodSeconds', message: 'behaviour.attributes.t.periodSeconds: must be > 0' },
    ]);
  });
});

describe('parseGeneratorSpec (the CLI --attr syntax)', () => {
  it('parses every kind', () => {
    expect(parseGeneratorSpec('static:42')).toEqual({ kind: 'static', value: 42 });
    expect(parseGeneratorSpec('static:on')).toEqual({ kind: 'static', value: 'on' });
    expect(parseGeneratorSpec('static:true')).toEqual({ kind: 'static', value: true });
    expect(parseGeneratorSpec('int:30..70')).toEqual({ kind: 'int', min: 30, max: 70 });
    expect(parseGeneratorSpec('float:-5.5..26:1')).toEqual({ kind: 'float', min: -5.5, max: 26, decimals: 1 });
    expect(parseGeneratorSpec('string:8')).toEqual({ kind: 'string', length: 8 });
    expect(parseGeneratorSpec('boolean')).toEqual({ kind: 'boolean' });
    expect(parseGeneratorSpec('gps:51.5,-0.12,250')).toEqual({ kind: 'gps', lat: 51.5, lng: -0.12, radiusMeters: 250 });
    expect(parseGeneratorSpec('sine:0..100:60')).toEqual({ kind: 'sine', min: 0, max: 100, periodSeconds: 60 });
    expect(parseGeneratorSpec('ramp:0..10:0.5')).toEqual({ kind: 'ramp', min: 0, max: 10, step: 0.5 });
  });

  it('says what is wrong', () => {
    expect(parseGeneratorSpec('noise')).toMatch(/^unknown generator "noise"/);
    expect(parseGeneratorSpec('int:5')).toMatch(/expected int:MIN\.\.MAX/);
    expect(parseGeneratorSpec('sine:0..1')).toMatch(/expected sine:MIN\.\.MAX:PERIOD_SECONDS/);
  });
});

describe('command reactions', () => {
  it('copies payload fields (dotted paths, "" = whole payload) for the matching command only', () => {
    const reactions: CommandReaction[] = [
      { command: 'setTemp', set: { setpoint: 'value', mode: 'opts.mode' } },
      { command: 'config', set: { config: '' } },
    ];
    expect(applyReactions(reactions, 'setTemp', { value: 21.5, opts: { mode: 'eco' } })).toEqual({
      setpoint: 21.5,
      mode: 'eco',
    });
    expect(applyReactions(reactions, 'config', { a: 1 })).toEqual({ config: { a: 1 } });
    expect(applyReactions(reactions, 'other', { value: 1 })).toEqual({});
    expect(applyReactions(reactions, 'setTemp', { value: null })).toEqual({});
  });

  it('reads a command message', () => {
    expect(readCommand(Buffer.from('{"name":"reboot","payload":{"delay":5}}'))).toEqual({
      ok: true,
      name: 'reboot',
      payload: { delay: 5 },
      shown: 'reboot {"delay":5}',
    });
    expect(readCommand(Buffer.from('nope'))).toEqual({ ok: false, error: 'not a JSON command' });
  });
});

describe('back-off', () => {
  it('doubles from the base up to the cap', () => {
    const b = backoffOptions({ baseMs: 1000 });
    const middle = () => 0.5; // no spread
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, b, middle))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000,
    ]);
    expect(b.maxAttempts).toBe(5);
    expect(() => backoffOptions({ baseMs: 0 })).toThrow(/invalid back-off/);
    expect(() => backoffOptions({ jitter: 1 })).toThrow(/invalid back-off/);
  });

  it('spreads each delay by ± the jitter so a fleet does not reconnect in one wave', () => {
    const b = backoffOptions({ baseMs: 1000 });
    expect(backoffDelay(1, b, () => 0)).toBe(800);
    expect(backoffDelay(1, b, () => 1)).toBe(1200);
    expect(backoffDelay(3, b, () => 0)).toBe(3200);
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(2, b)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d >= 1600 && d <= 2400).toBe(true);
    expect(backoffDelay(1, backoffOptions({ baseMs: 1000, jitter: 0 }), () => 0)).toBe(1000);
  });
});
