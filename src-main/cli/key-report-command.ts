// keyport keys lint [ID] [--json] and keyport keys matrix ID [--csv] [--json].
import type { LintFinding } from '../contract.ts';
import { USE_CODES } from '../core/key-lint.ts';
import { withBackend, type Backend } from './backend.ts';
import { parse } from './args.ts';
import { printJson, table, type CliIo, type Out } from './io.ts';

export function formatFindings(findings: readonly LintFinding[], indent = '  '): string {
  return findings.map((f) => `${indent}${f.code}: ${f.message}\n${indent}  fix: ${f.fix}\n`).join('');
}

/** After keys create: the linter's warnings on stderr (use findings left out: the key is new). */
export async function warnAfterCreate(b: Backend, keyId: string, err: Out): Promise<void> {
  const [report] = await b.api.call('keys.lint', { id: keyId });
  const findings = (report?.findings ?? []).filter((f) => !USE_CODES.includes(f.code));
  if (findings.length) err.write(`keyport: warning: access key ${keyId}:\n${formatFindings(findings)}`);
}

export async function lintCommand(args: string[], open: () => Promise<Backend>, io: CliIo): Promise<void> {
  // The key id is optional: without it every key is linted.
  const hasId = args[0] !== undefined && !args[0].startsWith('-');
  const { values, positionals } = parse(args, {}, hasId ? ['key ID'] : []);
  const id = positionals[0];
  await withBackend(open, async (b) => {
    const reports = await b.api.call('keys.lint', id === undefined ? {} : { id });
    if (values.json) return printJson(io.stdout, reports);
    for (const r of reports)
      io.stdout.write(
        r.findings.length
          ? `${r.keyId}: ${r.findings.length} finding(s)\n${formatFindings(r.findings)}`
          : `${r.keyId}: no findings\n`,
      );
    if (reports.length === 0) io.stdout.write('no access keys\n');
  });
}

export async function matrixCommand(args: string[], open: () => Promise<Backend>, io: CliIo): Promise<void> {
  const { values, positionals } = parse(args, { csv: { type: 'boolean' }, address: { type: 'string' } }, ['key ID']);
  await withBackend(open, async (b) => {
    const m = await b.api.call('keys.matrix', {
      id: positionals[0] as string,
      ...(values.address !== undefined ? { address: values.address as string } : {}),
    });
    if (values.csv) return void io.stdout.write(m.csv);
    if (values.json) {
      const { csv: _csv, ...doc } = m;
      return printJson(io.stdout, doc);
    }
    const mark = (c: { allowed: boolean; reason: string }) => (c.allowed ? 'yes' : `no (${c.reason})`);
    io.stdout.write(
      table(
        ['DEVICE', 'NAME', ...m.columns.map((c) => c.toUpperCase())],
        m.rows.map((r) => [r.deviceId, r.deviceName, ...r.cells.map(mark)]),
      ) || 'no devices\n',
    );
  });
}
