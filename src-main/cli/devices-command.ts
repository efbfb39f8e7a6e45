// keyport devices create|list|set-tags|delete
import { withBackend, type Backend } from './backend.ts';
import { describeTags } from '../core/device-scope.ts';
import { parse, tagsFrom } from './args.ts';
import { printJson, table, type CliIo } from './io.ts';
import { UsageError } from './usage.ts';
import { parseAttrArg } from '../core/validation.ts';
import type { Device } from '../core/types.ts';

export const DEVICE_SUBCOMMANDS = ['create', 'list', 'set-tags', 'delete'] as const;

function show(d: Device): string {
  const attrs = d.attributes?.length
    ? `  attributes ${d.attributes.map((a) => `${a.name}:${a.dataType}`).join(' ')}`
    : '';
  return `${d.id}  ${d.name}  [${d.deviceClass}]${d.tags.length ? `  ${describeTags(d.tags)}` : ''}${attrs}\n`;
}

export async function devicesCommand(
  sub: string | undefined,
  args: string[],
  open: () => Promise<Backend>,
  io: CliIo,
): Promise<void> {
  const out = io.stdout;
  switch (sub) {
    case 'create': {
      const { values } = parse(args, {
        name: { type: 'string' },
        description: { type: 'string' },
        tag: { type: 'string', multiple: true },
        class: { type: 'string' },
        gateway: { type: 'string' },
        attr: { type: 'string', multiple: true },
        'id-only': { type: 'boolean' },
      });
      if (values.name === undefined) throw new UsageError('devices create needs --name');
      if (values['id-only'] && values.json) throw new UsageError('--id-only and --json cannot be combined');
      const attributes = ((values.attr as string[] | undefined) ?? []).map((text) => {
        const a = parseAttrArg(text);
        if (typeof a === 'string') throw new UsageError(a);
        return a;
      });
      const req = {
        name: values.name as string,
        ...(values.description !== undefined ? { description: values.description as string } : {}),
        tags: tagsFrom(values.tag),
        ...(values.class !== undefined ? { deviceClass: values.class as Device['deviceClass'] } : {}),
        ...(values.gateway !== undefined ? { gatewayId: values.gateway as string } : {}),
        ...(attributes.length ? { attributes } : {}),
      };
      await withBackend(open, async (b) => {
        const d = await b.api.call('devices.create', req);
        // --id-only: just the id, for DEVICE_ID=$(keyport devices create … --id-only)
        if (values['id-only']) out.write(`${d.id}\n`);
        else if (values.json) printJson(out, d);
        else out.write(`created device ${show(d)}`);
      });
      return;
    }
    case 'list': {
      const { values } = parse(args, {});
      await withBackend(open, async (b) => {
        const list = await b.api.call('devices.list', {});
        if (values.json) return printJson(out, list);
        if (list.length === 0)
          return void out.write('no devices yet: create one with `keyport devices create --name NAME`\n');
        out.write(
          table(
            ['ID', 'NAME', 'CLASS', 'STATUS', 'TAGS'],
            list.map((d) => [
              d.id,
              d.name,
              d.deviceClass,
              d.connectionStatus?.status ?? 'disconnected',
              describeTags(d.tags),
            ]),
          ),
        );
      });
      return;
    }
    case 'set-tags': {
      const { values, positionals } = parse(args, { tag: { type: 'string', multiple: true } }, ['device ID']);
      const tags = tagsFrom(values.tag);
      await withBackend(open, async (b) => {
        const d = await b.api.call('devices.update', { id: positionals[0] as string, patch: { tags } });
        values.json ? printJson(out, d) : out.write(`tags of ${d.id} are now: ${describeTags(d.tags) || '(none)'}\n`);
      });
      return;
    }
    case 'delete': {
      const { values, positionals } = parse(args, {}, ['device ID']);
      await withBackend(open, async (b) => {
        const d = await b.api.call('devices.delete', { id: positionals[0] as string });
        values.json ? printJson(out, d) : out.write(`deleted device ${d.id} (${d.name})\n`);
      });
      return;
    }
    default:
      throw new UsageError(
        `devices: unknown subcommand ${sub === undefined ? '(none)' : `"${sub}"`} (use ${DEVICE_SUBCOMMANDS.join(', ')})`,
      );
  }
}
