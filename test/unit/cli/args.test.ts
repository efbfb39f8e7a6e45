// cli/args.ts: a refused flag is named from parseArgs' tokens, never from its message text.
import { describe, expect, it } from 'vitest';
import { ArgError, parse } from '../../../src-main/cli/args.ts';
import { UsageError } from '../../../src-main/cli/usage.ts';

const OPTS = { host: { type: 'string' }, verbose: { type: 'boolean', short: 'v' } } as const;

function refusal(args: string[]): ArgError {
  try {
    parse(args, OPTS);
  } catch (err) {
    expect(err).toBeInstanceOf(ArgError);
    expect(err).toBeInstanceOf(UsageError); // the CLI prints every UsageError the same way
    return err as ArgError;
  }
  throw new Error(`parse(${JSON.stringify(args)}) was expected to refuse`);
}

describe('parse refusals', () => {
  it.each<[string[], ArgError['kind'], string, string]>([
    [['--bogus'], 'unknown-option', '--bogus', 'unknown option --bogus (try: keyport help)'],
    [['-x'], 'unknown-option', '-x', 'unknown option -x (try: keyport help)'],
    [['-vx'], 'unknown-option', '-x', 'unknown option -x (try: keyport help)'],
    [['--host'], 'missing-value', '--host', 'option --host needs a value'],
    [['--data', '--json'], 'missing-value', '--data', 'option --data needs a value'],
    [['--verbose=yes'], 'unexpected-value', '--verbose', 'option --verbose does not take a value'],
    [['--json=1'], 'unexpected-value', '--json', 'option --json does not take a value'],
  ])('%j: %s %s', (args, kind, flag, message) => {
    const e = refusal(args);
    expect({ kind: e.kind, flag: e.flag, message: e.message }).toEqual({ kind, flag, message });
  });

  it('accepts what the options allow', () => {
    const r = parse(['--host', 'h', '-v', '--data=d'], OPTS);
    expect(r.values).toMatchObject({ host: 'h', verbose: true, data: 'd' });
  });
});
