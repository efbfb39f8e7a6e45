import { describe, expect, it } from 'vitest';
import { parseCommand, parseState, parseTime } from '../../../src-main/core/payloads.ts';

const NOW = new Date('2026-11-28T12:00:00.000Z');

describe('parseState', () => {
  it.each([
    ['{"data":{"temp":21.5,"on":true,"mode":"eco","gps":{"lat":1,"lng":2}}}', NOW.toISOString()],
    ['{"data":{"t":1},"time":{"$date":"2026-01-02T03:04:05.000Z"}}', '2026-01-02T03:04:05.000Z'],
    ['{"data":{"t":1},"time":1767323045}', '2026-01-02T03:04:05.000Z'],
    ['{"data":{"t":1},"time":1767323045000}', '2026-01-02T03:04:05.000Z'],
    ['{"data":{"t":1},"time":"2026-01-02T03:04:05Z"}', '2026-01-02T03:04:05.000Z'],
    ['{"data":{"t":1},"time":-60000}', '2026-11-28T11:59:00.000Z'],
  ])('accepts %s', (text, time) => {
    const r = parseState(new TextEncoder().encode(text), NOW);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.state.time).toBe(time);
  });

  it.each([
    ['not json', 'not valid JSON'],
    ['[1]', 'JSON object'],
    ['{"data":5}', '"data" object'],
    ['{"data":{"x":null}}', 'data.x must be'],
    ['{"data":{"x":1e400}}', 'data.x must be'],
    ['{"data":{"__proto__":{"polluted":1}}}', 'state.data.__proto__: the property name "__proto__" is not allowed'],
    ['{"data":{"cfg":{"constructor":{"x":1}}}}', 'state.data.cfg.constructor: the property name "constructor"'],
    ['{"__proto__":{},"data":{"x":1}}', 'state.__proto__: the property name'],
    // Spelt with escapes: the text holds none of the names as written, the parsed keys do.
    ['{"data":{"\\u005f_proto__":{"polluted":1}}}', 'state.data.__proto__: the property name "__proto__"'],
    ['{"data":{"cfg":{"\\u0063onstructor":1}}}', 'state.data.cfg.constructor: the property name'],
    ['{"data":{"x":{"protot\\u0079pe":1}}}', 'state.data.x.prototype: the property name'],
    ['{"data":{"x":1},"extra":1}', 'unknown state field(s): extra'],
    ['{"data":{"x":1},"time":"yesterday"}', 'not a valid date'],
  ])('refuses %s', (text, message) => {
    const r = parseState(text, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });

  it('takes the time of a report without one from a clock in milliseconds as from a Date', () => {
    const r = parseState('{"data":{"t":1}}', NOW.getTime());
    expect(r).toEqual({ ok: true, state: { time: NOW.toISOString(), data: { t: 1 } } });
    const back = parseState('{"data":{"t":1},"time":-60000}', NOW.getTime());
    expect(back.ok && back.state.time).toBe('2026-11-28T11:59:00.000Z');
  });

  it('accepts names that only contain a prototype name, and escapes elsewhere', () => {
    expect(parseState('{"data":{"protocol":"x","deconstructor":1,"path":"C:\\\\tmp"}}', NOW).ok).toBe(true);
  });

  it('does not pollute prototypes', () => {
    parseState('{"data":{"__proto__":{"polluted":1}}}', NOW);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseCommand', () => {
  it('reads name, payload and time', () => {
    const r = parseCommand('{"name":"reboot","payload":{"delay":5}}', NOW);
    expect(r).toEqual({ ok: true, command: { name: 'reboot', payload: { delay: 5 }, time: NOW.toISOString() } });
  });
  it.each([['{"payload":1}'], ['{"name":""}'], [`{"name":"${'x'.repeat(256)}"}`], ['nope']])('refuses %s', (text) => {
    expect(parseCommand(text, NOW).ok).toBe(false);
  });
});

describe('parseTime', () => {
  it('refuses a prototype key anywhere in a command, naming where', () => {
    expect(parseCommand('{"name":"set","payload":{"cfg":{"__proto__":{"admin":true}}}}', NOW)).toEqual({
      ok: false,
      error: expect.stringContaining('command.payload.cfg.__proto__: the property name "__proto__" is not allowed'),
    });
  });

  it('reads small numbers as epoch seconds and large ones as ms', () => {
    expect(parseTime(1, NOW)).toEqual(new Date(1000));
    expect(parseTime(1e12, NOW)).toEqual(new Date(1e12));
  });
});
