// The `keyport` command line (docs/design.md §12). Exit codes: 0 ok, 1 runtime failure, 2 bad usage or
// invalid input — always with one line on stderr naming what was wrong.
//
// Every command is loaded on demand (its own chunk of the built CLI): `help` and bad usage then load
// only this file, usage.ts and io.ts, and a command loads the store, backend or broker it needs. The
// tsx fallback for a stale bundle (bin/keyport.mjs) likewise compiles only what the command reaches.
import { ApiError } from '../service/api-error.ts';
import { resolveDataDir } from '../service/data-dir.ts';
import type { Backend } from './backend.ts';
import { processIo, type CliIo } from './io.ts';
import { USAGE, UsageError } from './usage.ts';

/** --data DIR can appear anywhere; pick it out before the subcommand parses its own flags. */
function dataDirFrom(args: string[], env: NodeJS.ProcessEnv): string {
  const i = args.findIndex((a) => a === '--data' || a.startsWith('--data='));
  if (i < 0) return resolveDataDir(undefined, env);
  const a = args[i] as string;
  const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1];
  if (!v || v.startsWith('--')) throw new UsageError('--data needs a directory');
  return resolveDataDir(v, env);
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout.write(USAGE + '\n');
    return command === undefined ? 2 : 0;
  }
  const dataDir = dataDirFrom(rest, io.env);
  const open = async (): Promise<Backend> => (await import('./backend.ts')).openBackend(dataDir);
  const [sub, ...args] = rest;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(USAGE + '\n');
    return 0;
  }
  switch (command) {
    case 'devices':
      await (await import('./devices-command.ts')).devicesCommand(sub, args, open, io);
      return 0;
    case 'keys':
      await (await import('./keys-command.ts')).keysCommand(sub, args, open, io);
      return 0;
    case 'explain':
      return (await import('./explain-command.ts')).explainCommand(rest, open, io);
    case 'serve':
      // Loaded on demand (a separate chunk of the built CLI): the broker, TLS and HTTP stack would
      // double every other command's start-up.
      return (await import('./serve-command.ts')).serveCommand(rest, dataDir, io);
    case 'ui-url':
      return (await import('./ui-url-command.ts')).uiUrlCommand(rest, dataDir, io);
    case 'simulate':
      // Loaded on demand, like serve: mqtt.js and (without a server) the whole broker.
      return (await import('./simulate-command.ts')).simulateCommand(rest, dataDir, io);
    default:
      throw new UsageError(`unknown command "${command}" (try: keyport help)`);
  }
}

/** Which flag sets a field, so a validation message can point at what the user typed. */
const FIELD_FLAGS: Record<string, string> = {
  name: '--name',
  description: '--description',
  tags: '--tag',
  deviceClass: '--class',
  gatewayId: '--gateway',
  deviceIds: '--device',
  deviceTags: '--tag',
  addresses: '--allow-address/--deny-address',
  addressFilterType: '--allow-address/--deny-address',
  filterType: '--topics',
  pubTopics: '--pub-topic',
  subTopics: '--sub-topic',
  query: '--query',
};

function withFlag(err: ApiError): string {
  const field = err.error.errors?.[0]?.field.split(/[[.]/)[0];
  const flag = field ? FIELD_FLAGS[field] : undefined;
  return flag ? `${err.message} (${flag})` : err.message;
}

/**
 * Runs one `keyport` command and resolves with its exit code; never exits the process and never
 * rejects. `io` is the process by default; tests pass their own (see ./io.ts).
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    const message = err instanceof ApiError ? withFlag(err) : err instanceof Error ? err.message : String(err);
    io.stderr.write(`keyport: ${message.split('\n')[0]}\n`);
    if (err instanceof UsageError) return 2;
    if (err instanceof ApiError) return err.isInputError ? 2 : 1;
    return 1; // a runtime failure, a corrupt or unreadable store file (StoreFileError) among them
  }
}
