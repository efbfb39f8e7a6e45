// State attribute generators (docs/design.md §7) and the validation of a whole simulated-device behaviour.
// A generator is a function of the seconds since the simulation started; `ramp` is the one with
// memory: it advances one step per call (per report) and wraps from max back to min.
import type { AttributeDataType, DeviceAttribute, StateValue } from '../core/types.ts';
import { GENERATOR_KINDS } from '../core/schemas/behaviour-schema.ts';
import type { Generator, SimBehaviour } from './types.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const METERS_PER_DEGREE = 111_320;

const round = (n: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
};

export function makeGenerator(g: Generator, rand: () => number = Math.random): (tSeconds: number) => StateValue {
  switch (g.kind) {
    case 'static':
      return () => g.value;
    case 'int':
      return () => Math.min(g.max, g.min + Math.floor(rand() * (g.max - g.min + 1)));
    case 'float': {
      const decimals = g.decimals ?? 2;
      return () => Math.min(g.max, Math.max(g.min, round(g.min + rand() * (g.max - g.min), decimals)));
    }
    case 'string':
      return () => {
        let s = '';
        for (let i = 0; i < g.length; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length) % ALPHABET.length];
        return s;
      };
    case 'boolean':
      return () => rand() < 0.5;
    case 'gps':
      return () => {
        // Uniform over the disc: the distance goes with the square root of a uniform number.
        const r = g.radiusMeters * Math.sqrt(rand());
        const theta = 2 * Math.PI * rand();
        const dLat = (r * Math.cos(theta)) / METERS_PER_DEGREE;
        const cosLat = Math.max(Math.cos((g.lat * Math.PI) / 180), 1e-6);
        const dLng = (r * Math.sin(theta)) / (METERS_PER_DEGREE * cosLat);
        const lat = Math.max(-90, Math.min(90, g.lat + dLat));
        const lng = ((g.lng + dLng + 540) % 360) - 180;
        // Losant's GPS attributes take a "lat,lon" string (https://docs.losant.com/devices/attributes/).
        return `${round(lat, 6)},${round(lng, 6)}`;
      };
    case 'sine': {
      const mid = (g.min + g.max) / 2;
      const amp = (g.max - g.min) / 2;
      return (t) => round(mid + amp * Math.sin((2 * Math.PI * t) / g.periodSeconds), 3);
    }
    case 'ramp': {
      let next = g.min;
      return () => {
        const v = next;
        next = round(next + g.step, 9);
        if (next > g.max) next = g.min;
        return v;
      };
    }
  }
}

/** Generators for every attribute of a behaviour; call with seconds since start. */
export function makeAttributeSource(
  attributes: Record<string, Generator>,
  rand?: () => number,
): (tSeconds: number) => Record<string, StateValue> {
  const gens = Object.entries(attributes).map(([name, g]) => [name, makeGenerator(g, rand)] as const);
  return (t) => {
    const out: Record<string, StateValue> = {};
    for (const [name, gen] of gens) out[name] = gen(t);
    return out;
  };
}

const DATA_TYPE: Record<Exclude<Generator['kind'], 'static'>, AttributeDataType> = {
  int: 'number',
  float: 'number',
  sine: 'number',
  ramp: 'number',
  string: 'string',
  boolean: 'boolean',
  gps: 'gps',
};

/**
 * The attributes a simulated device reports, to declare on the device a simulation creates (Losant
 * refuses state for undeclared attributes). Undefined when they cannot all be typed up front (a
 * static object value, or a command reaction setting an attribute no generator reports): such a
 * device declares none and so accepts any attribute (README "Differences from Losant").
 */
export function declaredAttributes(b: Pick<SimBehaviour, 'attributes' | 'reactions'>): DeviceAttribute[] | undefined {
  const out: DeviceAttribute[] = [];
  for (const [name, g] of Object.entries(b.attributes)) {
    if (g.kind !== 'static') out.push({ name, dataType: DATA_TYPE[g.kind] });
    else if (typeof g.value === 'number' || typeof g.value === 'string' || typeof g.value === 'boolean')
      out.push({ name, dataType: typeof g.value as AttributeDataType });
    else return undefined;
  }
  const reacted = (b.reactions ?? []).flatMap((r) => Object.keys(r.set));
  if (reacted.some((name) => !(name in b.attributes))) return undefined;
  return out;
}

/** Parses the CLI form of a generator: `static:V`, `int:MIN..MAX`, `float:MIN..MAX[:DECIMALS]`,
 * `string:N`, `boolean`, `gps:LAT,LNG,RADIUS_M`, `sine:MIN..MAX:PERIOD_S`, `ramp:MIN..MAX:STEP`. */
export function parseGeneratorSpec(spec: string): Generator | string {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  const parts = rest.split(':');
  const range = (s: string | undefined): [number, number] | null => {
    const m = /^(-?[\d.]+(?:e-?\d+)?)\.\.(-?[\d.]+(?:e-?\d+)?)$/i.exec(s ?? '');
    return m ? [Number(m[1]), Number(m[2])] : null;
  };
  const num = (s: string | undefined): number => (s === undefined || s.trim() === '' ? NaN : Number(s));
  const bad = (form: string) => `"${spec}" is not a generator (expected ${form})`;
  switch (kind) {
    case 'static': {
      if (colon < 0) return bad('static:VALUE');
      const n = Number(rest);
      const value =
        rest === 'true' ? true : rest === 'false' ? false : rest.trim() !== '' && Number.isFinite(n) ? n : rest;
      return { kind: 'static', value };
    }
    case 'int':
    case 'float': {
      const r = range(parts[0]);
      if (!r) return bad(`${kind}:MIN..MAX`);
      if (kind === 'int') return { kind, min: r[0], max: r[1] };
      return parts[1] === undefined
        ? { kind, min: r[0], max: r[1] }
        : { kind, min: r[0], max: r[1], decimals: num(parts[1]) };
    }
    case 'string':
      return colon < 0 ? bad('string:LENGTH') : { kind, length: num(rest) };
    case 'boolean':
    case 'bool':
      return { kind: 'boolean' };
    case 'gps': {
      const [lat, lng, radius] = rest.split(',').map(num);
      return lat === undefined || lng === undefined || radius === undefined
        ? bad('gps:LAT,LNG,RADIUS_METERS')
        : { kind, lat, lng, radiusMeters: radius };
    }
    case 'sine':
    case 'ramp': {
      const r = range(parts[0]);
      if (!r || parts[1] === undefined) return bad(`${kind}:MIN..MAX:${kind === 'sine' ? 'PERIOD_SECONDS' : 'STEP'}`);
      return kind === 'sine'
        ? { kind, min: r[0], max: r[1], periodSeconds: num(parts[1]) }
        : { kind, min: r[0], max: r[1], step: num(parts[1]) };
    }
    default:
      return `unknown generator "${kind}" (one of ${GENERATOR_KINDS.join(', ')})`;
  }
}

/** Default behaviour when none is given: temp float 18–26, humidity int 30–70, every 5 s. */
export function defaultBehaviour(everySeconds: number | null = 5): SimBehaviour {
  return {
    attributes: { temp: { kind: 'float', min: 18, max: 26, decimals: 1 }, humidity: { kind: 'int', min: 30, max: 70 } },
    everySeconds,
  };
}
