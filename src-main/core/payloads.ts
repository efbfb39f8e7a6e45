// Device state and command payloads (docs/design.md §5). Invalid state is accepted at the MQTT level but
// recorded as state.invalid and not stored; these functions say why.
import { findPrototypeKey, prototypeKeyMessage, textMayHoldPrototypeKey } from './prototype-keys.ts';
import type { Command, DeviceState, StateValue } from './types.ts';
import { isPlainObject } from './plain-object.ts';

export type { Command };
type Payload = Uint8Array | string;
const utf8 = new TextDecoder('utf-8');

/**
 * `time` may be {"$date": ISO}, epoch seconds or ms, a date string, or a negative ms offset from
 * now (a Date, or its epoch milliseconds).
 */
export function parseTime(t: unknown, now: Date | number): Date | string {
  let d: Date;
  if (isPlainObject(t) && typeof t.$date === 'string') d = new Date(t.$date);
  else if (typeof t === 'number') {
    if (!Number.isFinite(t)) return 'time must be a finite number';
    if (t < 0) d = new Date((typeof now === 'number' ? now : now.getTime()) + t);
    else d = new Date(t < 1e11 ? t * 1000 : t); // below 1e11 it cannot be ms since 1973: read as seconds
  } else if (typeof t === 'string') d = new Date(t);
  else return 'time must be {"$date": ISO}, epoch seconds or milliseconds, a date string, or a negative offset in ms';
  return Number.isNaN(d.getTime()) ? `time ${JSON.stringify(t)} is not a valid date` : d;
}

// Most reports carry no time (it is the time they arrive), tens of thousands a second: the ISO text
// of a millisecond is made once (issue 17).
let isoMs = Number.NaN;
let isoText = '';
function isoOf(d: Date | number): string {
  const ms = typeof d === 'number' ? d : d.getTime();
  if (ms !== isoMs) {
    isoText = new Date(ms).toISOString();
    isoMs = ms;
  }
  return isoText;
}

const textOf = (payload: Payload): string => (typeof payload === 'string' ? payload : utf8.decode(payload));

function parseJson(text: string): unknown | Error {
  try {
    return JSON.parse(text);
  } catch (err) {
    return new Error(`payload is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * A state report's payload as a DeviceState, or why it is refused. `now` (a Date or its epoch
 * milliseconds: the broker passes a number, no Date per report) is the time of a report without
 * one and what a negative offset counts from.
 */
export function parseState(
  payload: Payload,
  now: Date | number,
): { ok: true; state: DeviceState } | { ok: false; error: string } {
  const text = textOf(payload);
  const j = parseJson(text);
  if (j instanceof Error) return { ok: false, error: j.message };
  if (!isPlainObject(j)) return { ok: false, error: 'state must be a JSON object like {"data": {...}}' };
  // At any depth (attribute values may be objects): the value is stored and copied later. Only
  // text that can hold such a key is walked (textMayHoldPrototypeKey).
  const proto = textMayHoldPrototypeKey(text) ? findPrototypeKey(j, 'state') : null;
  if (proto !== null) return { ok: false, error: prototypeKeyMessage(proto) };
  if (!isPlainObject(j.data)) return { ok: false, error: 'state needs a "data" object of attributes' };
  // The parsed object is fresh and ours (no prototype keys, checked above): it becomes the state's
  // data as it is, after its values are checked, rather than being copied (issue 17: every report).
  const data = j.data;
  for (const k in data) {
    const v = data[k];
    if (
      typeof v === 'number'
        ? !Number.isFinite(v)
        : !(typeof v === 'string' || typeof v === 'boolean' || isPlainObject(v))
    ) {
      return { ok: false, error: `data.${k} must be a number, string, boolean or object` };
    }
  }
  for (const k in j) {
    if (k !== 'data' && k !== 'time') {
      const extra = Object.keys(j).filter((f) => f !== 'data' && f !== 'time');
      return { ok: false, error: `unknown state field(s): ${extra.join(', ')}` };
    }
  }
  const time = j.time === undefined ? now : parseTime(j.time, now);
  if (typeof time === 'string') return { ok: false, error: time };
  return { ok: true, state: { time: isoOf(time), data: data as Record<string, StateValue> } };
}

export function parseCommand(
  payload: Payload,
  now: Date,
): { ok: true; command: Command } | { ok: false; error: string } {
  const j = parseJson(textOf(payload));
  if (j instanceof Error) return { ok: false, error: j.message };
  return validateCommand(j, now);
}

export function validateCommand(j: unknown, now: Date): { ok: true; command: Command } | { ok: false; error: string } {
  if (!isPlainObject(j))
    return { ok: false, error: 'command must be a JSON object like {"name": "...", "payload": ...}' };
  const proto = findPrototypeKey(j, 'command');
  if (proto !== null) return { ok: false, error: prototypeKeyMessage(proto) };
  if (typeof j.name !== 'string' || j.name.length < 1 || j.name.length > 255)
    return { ok: false, error: 'command name must be a string of 1-255 characters' };
  const time = j.time === undefined ? now : parseTime(j.time, now);
  if (typeof time === 'string') return { ok: false, error: time };
  return { ok: true, command: { name: j.name, payload: j.payload ?? null, time: time.toISOString() } };
}
