// Command reactions (docs/design.md §7): a command `name` sets attributes from fields of its payload,
// e.g. {command: "setTemp", set: {"setpoint": "value"}} copies payload.value to setpoint.
// A field may be a dotted path ("target.value"); "" takes the whole payload.
import type { StateValue } from '../core/types.ts';
import type { CommandReaction } from './types.ts';

function pick(payload: unknown, path: string): unknown {
  if (path === '') return payload;
  let v: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function asStateValue(v: unknown): StateValue | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  return undefined;
}

/** The attributes a command sets (empty when no reaction matches or the fields are missing). */
export function applyReactions(
  reactions: readonly CommandReaction[],
  name: string,
  payload: unknown,
): Record<string, StateValue> {
  const out: Record<string, StateValue> = {};
  for (const r of reactions) {
    if (r.command !== name) continue;
    for (const [attr, field] of Object.entries(r.set)) {
      const v = asStateValue(pick(payload, field));
      if (v !== undefined) out[attr] = v;
    }
  }
  return out;
}

/** A command message as the device reads it: name and payload, or why it is not a command. */
export function readCommand(
  payload: Buffer,
): { ok: true; name: string; payload: unknown; shown: string } | { ok: false; error: string } {
  let c: { name?: unknown; payload?: unknown };
  try {
    c = JSON.parse(payload.toString('utf8')) as typeof c;
  } catch {
    return { ok: false, error: 'not a JSON command' };
  }
  if (typeof c !== 'object' || c === null) return { ok: false, error: 'not a JSON command object' };
  const name = typeof c.name === 'string' ? c.name : '(no name)';
  const shown = c.payload === undefined ? name : `${name} ${JSON.stringify(c.payload).slice(0, 200)}`;
  return { ok: true, name, payload: c.payload, shown };
}
