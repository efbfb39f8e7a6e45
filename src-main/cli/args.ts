// Flag parsing on node:util parseArgs (strict): an unknown flag or a missing value is a UsageError.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseTagArg, parseTagMatchArg } from '../core/validation.ts';
import type { Tag, TagMatch } from '../core/types.ts';
import { UsageError } from './usage.ts';

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
    const e = err as Error & { code?: string };
    const flag = /'(-[^']*)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag)
      throw new UsageError(`unknown option ${flag} (try: keyport help)`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag)
      throw new UsageError(`option ${flag.split(',')[0]} needs a value`);
    throw new UsageError(e.message.split('\n')[0] ?? 'bad arguments');
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
