// Pure helpers for the simulator forms: generator defaults and labels, turning the form's rows
// into a SimBehaviour (with the same checks the backend makes, so mistakes show as you type),
// and the tones used for statuses and reason codes.
import type { StateValue } from '../../../src-main/core/types.ts';
import type { CommandReaction, Generator, SimBehaviour, SimStatus } from '../../../src-main/contract.ts';

export type GeneratorKind = Generator['kind'];

export const GENERATOR_KINDS: { kind: GeneratorKind; label: string }[] = [
  { kind: 'static', label: 'Fixed value' },
  { kind: 'int', label: 'Random integer' },
  { kind: 'float', label: 'Random decimal' },
  { kind: 'string', label: 'Random text' },
  { kind: 'boolean', label: 'Random true/false' },
  { kind: 'gps', label: 'GPS point' },
  { kind: 'sine', label: 'Sine wave' },
  { kind: 'ramp', label: 'Ramp' },
];

/** A sensible generator of each kind; keeps the previous range when switching between ranged kinds. */
export function defaultGenerator(kind: GeneratorKind, prev?: Generator): Generator {
  const range = prev && 'min' in prev ? { min: prev.min, max: prev.max } : { min: 0, max: 100 };
  switch (kind) {
    case 'static':
      return { kind, value: 'on' };
    case 'int':
      return { kind, ...range };
    case 'float':
      return { kind, ...range, decimals: 1 };
    case 'string':
      return { kind, length: 8 };
    case 'boolean':
      return { kind };
    case 'gps':
      return { kind, lat: 52.52, lng: 13.405, radiusMeters: 500 };
    case 'sine':
      return { kind, ...range, periodSeconds: 60 };
    case 'ramp':
      return { kind, ...range, step: 1 };
  }
}

/** A fixed value typed as text: numbers and true/false become those types, the rest stays text. */
export function parseStatic(text: string): StateValue {
  const t = text.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t !== '' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return text;
}

export interface AttributeRow {
  name: string;
  gen: Generator;
}

export interface ReactionRow {
  command: string;
  attribute: string;
  field: string;
}

export interface BehaviourForm {
  attributes: AttributeRow[];
  /** 'demand' = only "Send one report". */
  reportMode: 'every' | 'demand';
  everySeconds: number | null;
  customPublish: string[];
  customSubscribe: string[];
  reactions: ReactionRow[];
  peripherals: string[];
}

export function emptyBehaviourForm(): BehaviourForm {
  return {
    attributes: [
      { name: 'temperature', gen: { kind: 'sine', min: 18, max: 26, periodSeconds: 60 } },
      { name: 'humidity', gen: { kind: 'int', min: 30, max: 60 } },
    ],
    reportMode: 'every',
    everySeconds: 5,
    customPublish: [],
    customSubscribe: [],
    reactions: [],
    peripherals: [],
  };
}

const ATTR_NAME = /^[0-9a-zA-Z_-]{1,255}$/;
const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

/** Problems with one generator, by its field ('' = the generator as a whole). */
export function generatorErrors(g: Generator): Record<string, string> {
  const e: Record<string, string> = {};
  const need = (field: string, v: unknown, what = 'a number') => {
    if (!finite(v)) e[field] = `Enter ${what}.`;
  };
  if ('min' in g) {
    need('min', g.min);
    need('max', g.max);
    if (finite(g.min) && finite(g.max) && g.min > g.max) e.max = 'Max must be at least min.';
  }
  if (g.kind === 'float' && g.decimals !== undefined && (!finite(g.decimals) || g.decimals < 0 || g.decimals > 10))
    e.decimals = '0–10 decimals.';
  if (g.kind === 'string' && (!finite(g.length) || g.length < 1 || g.length > 1000 || !Number.isInteger(g.length)))
    e.length = 'Length 1–1000.';
  if (g.kind === 'gps') {
    if (!finite(g.lat) || g.lat < -90 || g.lat > 90) e.lat = 'Latitude −90…90.';
    if (!finite(g.lng) || g.lng < -180 || g.lng > 180) e.lng = 'Longitude −180…180.';
    if (!finite(g.radiusMeters) || g.radiusMeters < 0) e.radiusMeters = 'Radius ≥ 0 m.';
  }
  if (g.kind === 'sine' && (!finite(g.periodSeconds) || g.periodSeconds <= 0)) e.periodSeconds = 'Period > 0 s.';
  if (g.kind === 'ramp' && (!finite(g.step) || g.step <= 0)) e.step = 'Step > 0.';
  return e;
}

/**
 * The behaviour the form describes, or the problems with it keyed like the server's field errors
 * (`behaviour.attributes[0].name`, `behaviour.everySeconds`, …).
 */
export function buildBehaviour(f: BehaviourForm): { behaviour: SimBehaviour; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const attributes: Record<string, Generator> = {};
  f.attributes.forEach((row, i) => {
    const name = row.name.trim();
    const at = `behaviour.attributes[${i}]`;
    if (!ATTR_NAME.test(name)) errors[`${at}.name`] = 'Letters, digits, "_" and "-".';
    else if (name in attributes) errors[`${at}.name`] = `"${name}" is already used.`;
    for (const [k, msg] of Object.entries(generatorErrors(row.gen))) errors[`${at}.${k}`] = msg;
    attributes[name] = row.gen;
  });
  let everySeconds: number | null = null;
  if (f.reportMode === 'every') {
    if (!finite(f.everySeconds) || f.everySeconds < 0.1 || f.everySeconds > 86400)
      errors['behaviour.everySeconds'] = 'Between 0.1 and 86400 seconds.';
    else everySeconds = f.everySeconds;
  }
  const reactions: CommandReaction[] = [];
  f.reactions.forEach((r, i) => {
    if (!r.command.trim() && !r.attribute.trim() && !r.field.trim()) return;
    const at = `behaviour.reactions[${i}]`;
    if (!r.command.trim()) errors[`${at}.command`] = 'Name the command.';
    if (!ATTR_NAME.test(r.attribute.trim())) errors[`${at}.attribute`] = 'Name the attribute to set.';
    reactions.push({ command: r.command.trim(), set: { [r.attribute.trim()]: r.field.trim() } }); // "" = the whole payload
  });
  const customPublish = f.customPublish
    .map((t) => t.trim())
    .filter(Boolean)
    .map((topic) => ({ topic }));
  const customSubscribe = f.customSubscribe.map((t) => t.trim()).filter(Boolean);
  const behaviour: SimBehaviour = {
    attributes,
    everySeconds,
    ...(reactions.length ? { reactions } : {}),
    ...(customPublish.length ? { customPublish } : {}),
    ...(customSubscribe.length ? { customSubscribe } : {}),
    ...(f.peripherals.length ? { peripherals: [...f.peripherals] } : {}),
  };
  return { behaviour, errors };
}

export type Tone = 'ok' | 'bad' | 'warn' | 'neutral' | 'accent';

export const STATUS_INFO: Record<SimStatus, { label: string; tone: Tone }> = {
  idle: { label: 'Idle', tone: 'neutral' },
  connecting: { label: 'Connecting', tone: 'accent' },
  connected: { label: 'Connected', tone: 'ok' },
  'backing-off': { label: 'Backing off', tone: 'warn' },
  refused: { label: 'Refused', tone: 'bad' },
  stopped: { label: 'Stopped', tone: 'neutral' },
};

const OK_REASONS = new Set([
  'connect.accepted',
  'publish.allowed',
  'subscribe.granted',
  'deliver.allowed',
  'state.stored',
  'client.disconnect',
]);

/** Reason codes that are a good outcome (green) rather than a refusal (red). */
export function isOkReason(reason: string): boolean {
  return OK_REASONS.has(reason);
}

/** "3s", "1m 05s": time left until an ISO instant. */
export function countdown(iso: string | undefined, now: number): string {
  if (!iso) return '';
  const ms = Date.parse(iso) - now;
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

export function formatValue(v: StateValue): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.lat === 'number' && typeof o.lng === 'number') return `${o.lat.toFixed(5)}, ${o.lng.toFixed(5)}`;
    return JSON.stringify(v);
  }
  return String(v);
}

/**
 * The server's field errors for a behaviour (`attributes.temp.max`, `customPublish[0].topic`,
 * `reactions[1].set.x`, with or without a `behaviour.` prefix) keyed like the form's rows, with
 * the field name taken off the front of the message (it shows next to that field anyway).
 */
export function placeBehaviourErrors(server: Record<string, string>, f: BehaviourForm): Record<string, string> {
  const out: Record<string, string> = {};
  const nth = (list: string[], i: number): number => {
    let seen = -1;
    for (let j = 0; j < list.length; j++) if ((list[j] ?? '').trim() && ++seen === i) return j;
    return i;
  };
  const reactionRows = f.reactions.filter((r) => r.command.trim() || r.attribute.trim() || r.field.trim());
  for (const [raw, message] of Object.entries(server)) {
    const field = raw.replace(/^behaviour\./, '');
    const msg = message.startsWith(`${field}: `)
      ? message.slice(field.length + 2)
      : message.startsWith(`${raw}: `)
        ? message.slice(raw.length + 2)
        : message;
    let m: RegExpExecArray | null;
    let key = raw;
    if ((m = /^attributes\.([^.]+)(?:\.(.+))?$/.exec(field))) {
      const i = f.attributes.findIndex((a) => a.name.trim() === m?.[1]);
      if (i >= 0) key = `behaviour.attributes[${i}].${m[2] && m[2] !== 'kind' ? m[2] : 'name'}`;
    } else if (field === 'everySeconds' || field === 'attributes') key = `behaviour.${field}`;
    else if ((m = /^customPublish\[(\d+)\]/.exec(field)))
      key = `behaviour.customPublish[${nth(f.customPublish, Number(m[1]))}]`;
    else if ((m = /^customSubscribe\[(\d+)\]/.exec(field)))
      key = `behaviour.customSubscribe[${nth(f.customSubscribe, Number(m[1]))}]`;
    else if ((m = /^reactions\[(\d+)\](?:\.(command|set))?/.exec(field))) {
      const row = reactionRows[Number(m[1])];
      const i = row ? f.reactions.indexOf(row) : Number(m[1]);
      key = `behaviour.reactions[${i}]${m[2] === 'command' ? '.command' : m[2] === 'set' ? '.attribute' : ''}`;
    }
    out[key] ??= msg;
  }
  return out;
}

/** Server messages start with their field name ("count: must be …"); next to the field it is noise. */
export function withoutFieldNames(errors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errors)) out[k] = v.startsWith(`${k}: `) ? v.slice(k.length + 2) : v;
  return out;
}
