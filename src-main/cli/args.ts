// Flag parsing on node:util parseArgs (strict): an unknown flag or a missing value is a UsageError.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseTagArg, parseTagMatchArg } from '../core/validation.ts';
import type { Tag, TagMatch } from '../core/types.ts';
import { UsageError } from './usage.ts';

/** A flag parseArgs refused: which flag, and what was wrong with it (no message text to read). */
export class ArgError extends UsageError {
  override name = 'ArgError';
  constructor(
    readonly kind: 'unknown-option' | 'missing-value' | 'unexpected-value' | 'other',
    readonly flag: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Why strict parseArgs refused `args`: the same arguments read again as tokens (non-strict), and
 * the first option token that breaks a rule of `options` named. strict parseArgs calls a string
 * option followed by another option ambiguous: that is a missing value here too.
 */
export function argError(args: string[], options: Options, cause: unknown): ArgError {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const def = options[t.name];
    if (!def) return new ArgError('unknown-option', t.rawName, `unknown option ${t.rawName} (try: keyport help)`);
    const ambiguous = t.inlineValue === false && t.value?.startsWith('-') === true;
    if (def.type === 'string' && (t.value === undefined || ambiguous))
      return new ArgError('missing-value', t.rawName, `option ${t.rawName} needs a value`);
    if (def.type === 'boolean' && t.value !== undefined)
      return new ArgError('unexpected-value', t.rawName, `option ${t.rawName} does not take a value`);
  }
  // Not one of the rules above: show parseArgs' own first line (only shown, never parsed).
  const first = cause instanceof Error ? cause.message.split('\n')[0] : undefined;
  return new ArgError('other', undefined, first || 'bad arguments');
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON: Options = {
  data: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export function parse(args: string[], options: Options, positionals: string[] = []) {
  try {
    const r = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
    if (r.positionals.length > positionals.length) {
      throw new UsageError(`unexpected argument "${r.positionals[positionals.length]}"`);
    }
    positionals.forEach((name, i) => {
      if (r.positionals[i] === undefined) throw new UsageError(`missing ${name}`);
    });
    return r;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw argError(args, { ...COMMON, ...options }, err);
  }
}

export function tagsFrom(values: unknown): Tag[] {
  const list = (values as string[] | undefined) ?? [];
  return list.map((t) => {
    const tag = parseTagArg(t);
    if (!tag) throw new UsageError(`--tag "${t}" must look like key=value`);
    return tag;
  });
}

/** `keys create --tag`: `k=v`, `k` or `k=` (key only, any value), `=v` (value only, any key). */
export function tagMatchesFrom(values: unknown): TagMatch[] {
  const list = (values as string[] | undefined) ?? [];
  return list.map((t) => {
    const item = parseTagMatchArg(t);
    if (!item) throw new UsageError(`--tag "${t}" must look like key=value, key (any value) or =value (any key)`);
    return item;
  });
}

export function strings(values: unknown): string[] {
  return (values as string[] | undefined) ?? [];
}

export function intFlag(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${String(value)}")`);
  return n;
}

export function numberFlag(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a number from ${min} to ${max} (got "${String(value)}")`);
  return n;
}
