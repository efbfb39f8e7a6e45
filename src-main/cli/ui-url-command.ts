// keyport ui-url [--json] (docs/design.md §12): prints again the UI link (with its admin token) of the server
// that owns this data directory, as `keyport serve` printed it at start. The server's lock file
// says where it listens and where its token is (store/lock.ts, written by server/runtime.ts); the
// link is printed only after that server has answered with the token.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readLock } from '../store/lock.ts';
import { httpApi } from './backend.ts';
import type { CliIo } from './io.ts';
import { UsageError } from './usage.ts';

export async function uiUrlCommand(args: string[], dataDir: string, io: CliIo): Promise<number> {
  let json: boolean;
  try {
    const { values } = parseArgs({
      args,
      options: { json: { type: 'boolean' }, data: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    json = values.json === true;
  } catch (err) {
    throw new UsageError(`ui-url: ${(err as Error).message}`);
  }
  const running = readLock(dataDir);
  if (!running) {
    io.stderr.write(
      `keyport: no Keyport server is running on the data directory ${dataDir}; start one with \`npm run serve\` (or \`keyport serve\`), which prints the UI link\n`,
    );
    return 1;
  }
  if (!running.url || !running.adminTokenFile) {
    io.stderr.write(
      `keyport: Keyport process ${running.pid} owns ${dataDir} but is not serving HTTP yet; try again in a moment\n`,
    );
    return 1;
  }
  const token = readFileSync(running.adminTokenFile, 'utf8').trim();
  await httpApi(running.url, token).call('app.info', {}); // the server is there and takes this token
  const url = `${running.url}/#token=${token}`;
  io.stdout.write(json ? JSON.stringify({ url, pid: running.pid }) + '\n' : url + '\n');
  return 0;
}
