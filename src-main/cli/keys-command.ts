// keyport keys create|list|set-status|delete
import { resolve } from 'node:path';
import { restrictionSummary } from '../core/key-summary.ts';
import type { TopicFilterType } from '../core/types.ts';
import { withBackend, type Backend } from './backend.ts';
import { parse, strings, tagMatchesFrom } from './args.ts';
import { printJson, table, type CliIo } from './io.ts';
import { gitExposure, openSecretsFile, pickFormat, type PendingSecretsFile } from './save-secrets.ts';
import { UsageError } from './usage.ts';
import { lintCommand, matrixCommand, warnAfterCreate } from './key-report-command.ts';

export const KEY_SUBCOMMANDS = ['create', 'list', 'set-status', 'delete', 'lint', 'matrix'] as const;
const TOPIC_MODES = ['none', 'all', 'whitelist', 'blacklist'];

function buildCreateRequest(values: Record<string, unknown>): Record<string, unknown> {
  const deviceIds = strings(values.device);
  const deviceTags = tagMatchesFrom(values.tag);
  const restricted = deviceIds.length > 0 || deviceTags.length > 0;
  if (values['all-devices'] && restricted)
    throw new UsageError('--all-devices cannot be combined with --device or --tag');
  if (!values['all-devices'] && !restricted)
    throw new UsageError(
      'choose which devices may use the key: --all-devices, --device ID or --tag key=value (also --tag key, --tag =value)',
    );
  const allow = strings(values['allow-address']);
  const denyList = strings(values['deny-address']);
  if (allow.length && denyList.length)
    throw new UsageError('--allow-address and --deny-address cannot be combined (a key has one address rule type)');
  const pub = strings(values['pub-topic']);
  const sub = strings(values['sub-topic']);
  const topics = values.topics as string | undefined;
  if (topics !== undefined && !TOPIC_MODES.includes(topics))
    throw new UsageError(`--topics must be one of ${TOPIC_MODES.join(', ')} (got "${topics}")`);
  if ((pub.length || sub.length) && topics !== 'whitelist' && topics !== 'blacklist') {
    throw new UsageError('--pub-topic/--sub-topic need --topics whitelist or --topics blacklist');
  }
  return {
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.description !== undefined ? { description: values.description } : {}),
    ...(deviceIds.length ? { deviceIds } : {}),
    ...(deviceTags.length ? { deviceTags } : {}),
    addressFilterType: allow.length ? 'whitelist' : denyList.length ? 'blacklist' : 'all',
    addresses: allow.length ? allow : denyList,
    filterType: (topics ?? 'none') as TopicFilterType,
    pubTopics: pub,
    subTopics: sub,
    createdVia: 'cli',
  };
}

async function create(args: string[], open: () => Promise<Backend>, io: CliIo): Promise<void> {
  const out = io.stdout;
  const { values } = parse(args, {
    name: { type: 'string' },
    description: { type: 'string' },
    'all-devices': { type: 'boolean' },
    device: { type: 'string', multiple: true },
    tag: { type: 'string', multiple: true },
    'allow-address': { type: 'string', multiple: true },
    'deny-address': { type: 'string', multiple: true },
    topics: { type: 'string' },
    'pub-topic': { type: 'string', multiple: true },
    'sub-topic': { type: 'string', multiple: true },
    save: { type: 'string' },
    format: { type: 'string' },
    'id-only': { type: 'boolean' },
  });
  const req = buildCreateRequest(values);
  if (values['id-only'] && values.save === undefined)
    throw new UsageError('--id-only needs --save FILE (otherwise the secret, shown once, would not be shown)');
  if (values['id-only'] && values.json) throw new UsageError('--id-only and --json cannot be combined');
  if (values.format !== undefined && values.save === undefined) throw new UsageError('--format goes with --save FILE');
  const save = values.save as string | undefined;
  const format = save !== undefined ? pickFormat(save, values.format as string | undefined) : undefined;
  await withBackend(open, async (b) => {
    const file: PendingSecretsFile | undefined =
      save !== undefined && format ? openSecretsFile(save, format) : undefined;
    if (save !== undefined) {
      const exposed = gitExposure(save);
      if (exposed) io.stderr.write(`keyport: warning: ${exposed}\n`);
    }
    let created;
    try {
      created = await b.api.call('keys.create', req);
    } catch (err) {
      file?.abandon();
      throw err;
    }
    const { accessKey: k, secret } = created;
    const l = b.listeners;
    file?.write([
      {
        keyId: k.id,
        key: k.key,
        secret,
        ...(k.name ? { name: k.name } : {}),
        ...(k.deviceIds?.length === 1 && k.deviceIds[0] ? { deviceId: k.deviceIds[0] } : {}),
        host: l?.host ?? '127.0.0.1',
        mqttPort: l?.mqtt ?? 1883,
        wsPort: l?.ws ?? 8083,
        tlsPort: l?.tls ?? 8883,
      },
    ]);
    // Issue 12: a secret that went to a file stays off stdout, which ends up in terminals' scroll-back
    // and CI logs. The document says where it went instead.
    await warnAfterCreate(b, k.id, io.stderr);
    if (values['id-only']) return void out.write(`${k.id}\n`);
    if (values.json)
      return printJson(out, save ? { accessKey: k, secretSavedTo: resolve(save) } : { accessKey: k, secret });
    out.write(`created access key ${k.id} (${restrictionSummary(k)})\n  key:    ${k.key}\n`);
    out.write(
      save
        ? `  secret: saved to ${save} (mode 0600); it is not shown again\n`
        : `  secret: ${secret}\nThe secret is shown once and Keyport does not keep it: copy it now.\n`,
    );
  });
}

export async function keysCommand(
  sub: string | undefined,
  args: string[],
  open: () => Promise<Backend>,
  io: CliIo,
): Promise<void> {
  const out = io.stdout;
  switch (sub) {
    case 'create':
      return create(args, open, io);
    case 'lint':
      return lintCommand(args, open, io);
    case 'matrix':
      return matrixCommand(args, open, io);
    case 'list': {
      const { values } = parse(args, { query: { type: 'string' } });
      await withBackend(open, async (b) => {
        const list = await b.api.call('keys.list', values.query !== undefined ? { query: values.query } : {});
        if (values.json) return printJson(out, list);
        if (list.length === 0)
          return void out.write(
            values.query
              ? 'no access keys match the query\n'
              : 'no access keys yet: create one with `keyport keys create --device ID`\n',
          );
        out.write(
          table(
            ['ID', 'NAME', 'KEY', 'STATUS', 'RESTRICTIONS'],
            list.map((k) => [k.id, k.name ?? '', k.key, k.status, restrictionSummary(k)]),
          ),
        );
      });
      return;
    }
    case 'set-status': {
      const { values, positionals } = parse(args, {}, ['key ID', 'status (active|inactive)']);
      const status = positionals[1];
      if (status !== 'active' && status !== 'inactive')
        throw new UsageError(`status must be active or inactive (got "${status}")`);
      await withBackend(open, async (b) => {
        const k = await b.api.call('keys.update', { id: positionals[0] as string, patch: { status } });
        values.json ? printJson(out, k) : out.write(`access key ${k.id} is now ${k.status}\n`);
      });
      return;
    }
    case 'delete': {
      const { values, positionals } = parse(args, {}, ['key ID']);
      await withBackend(open, async (b) => {
        const k = await b.api.call('keys.delete', { id: positionals[0] as string });
        values.json ? printJson(out, k) : out.write(`deleted access key ${k.id}${k.name ? ` (${k.name})` : ''}\n`);
      });
      return;
    }
    default:
      throw new UsageError(
        `keys: unknown subcommand ${sub === undefined ? '(none)' : `"${sub}"`} (use ${KEY_SUBCOMMANDS.join(', ')})`,
      );
  }
}
