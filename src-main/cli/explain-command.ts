// keyport explain: would this device, with this key, from this address, be allowed — and why?
// Exit 0 when everything asked is allowed, 3 when anything is denied, 2 for bad usage.
// No secret is accepted here (a command line is visible in ps): the key's rules are explained and
// the secret check is reported as skipped. secret.mismatch is explained only by the contract
// method access.explain with a pasted secret (the playground view).
import type { Check, Explanation, ExplainQuery, TopicExplanation } from '../contract.ts';
import { withBackend, type Backend } from './backend.ts';
import { parse, strings } from './args.ts';
import { printJson, type CliIo } from './io.ts';
import { UsageError } from './usage.ts';

export const EXIT_DENIED = 3;

const MARK: Record<Check['status'], string> = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' };

function chainLines(chain: readonly Check[], indent: string): string {
  return chain.map((c) => `${indent}${MARK[c.status]} ${c.check.padEnd(20)} ${c.detail}\n`).join('');
}

function topicBlock(t: TopicExplanation): string {
  const d = t.decision;
  let s = `${t.action.toUpperCase()} ${JSON.stringify(t.topic)}: ${d.allowed ? 'allowed' : 'DENIED'} (${d.reason})${
    t.reachable ? '' : ' [not reached: the CONNECT is refused]'
  }\n`;
  s += chainLines(t.chain, '  ');
  if (t.reach) {
    for (const topic of t.reach.delivered) s += `    delivered  ${topic}\n`;
    for (const w of t.reach.withheld) s += `    withheld   ${w.topic} (${w.reason}: ${w.rule})\n`;
    if (t.reach.truncated) s += '    … more topics match (list cut)\n';
  }
  return s;
}

export function formatExplanation(e: Explanation): string {
  const c = e.connect;
  let s = `CONNECT: ${c.decision.allowed ? 'accepted' : 'REFUSED'} (${c.decision.reason}, CONNACK ${c.returnCode})\n`;
  s += chainLines(c.chain, '  ');
  for (const t of e.topics) s += topicBlock(t);
  s += e.allowed ? 'everything asked is allowed\n' : 'something asked is denied\n';
  return s;
}

export async function explainCommand(args: string[], open: () => Promise<Backend>, io: CliIo): Promise<number> {
  if (args.some((a) => a === '--secret' || a.startsWith('--secret=')))
    throw new UsageError(
      'explain takes no secret (a command line is visible in ps): give the key id; paste a secret in the playground',
    );
  const { values } = parse(args, {
    key: { type: 'string' },
    device: { type: 'string' },
    address: { type: 'string' },
    'forwarded-for': { type: 'string' },
    transport: { type: 'string' },
    publish: { type: 'string', multiple: true },
    subscribe: { type: 'string', multiple: true },
    deliver: { type: 'string', multiple: true },
    will: { type: 'string' },
  });
  if (values.key === undefined) throw new UsageError('--key ID|KEY is required');
  if (values.device === undefined) throw new UsageError('--device ID is required (the MQTT client id)');
  const transport = (values.transport as string | undefined) ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'ws' && transport !== 'tls')
    throw new UsageError(`--transport must be tcp, ws or tls (got "${transport}")`);
  const xff = values['forwarded-for'] as string | undefined;
  if (xff !== undefined && transport !== 'ws')
    throw new UsageError('--forwarded-for goes with --transport ws (X-Forwarded-For is an HTTP header)');
  const query: ExplainQuery = {
    key: values.key as string,
    deviceId: values.device as string,
    transport,
    publish: strings(values.publish),
    subscribe: strings(values.subscribe),
    deliver: strings(values.deliver),
    ...(values.address !== undefined ? { address: values.address as string } : {}),
    ...(xff !== undefined ? { forwardedFor: xff } : {}),
    ...(values.will !== undefined ? { willTopic: values.will as string } : {}),
  };
  return withBackend(open, async (b) => {
    const e = await b.api.call('access.explain', query);
    if (values.json) printJson(io.stdout, e);
    else io.stdout.write(formatExplanation(e));
    return e.allowed ? 0 : EXIT_DENIED;
  });
}
