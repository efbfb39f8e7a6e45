// Profiling aid for memory per idle client (issue 17 item 4): connects N clients to one side,
// writes a heap snapshot with none and one with N held (after gc), and prints the retained growth
// per client by constructor. Usage:
//   node --expose-gc bin/run-ts.mjs bench/heap-diff.ts [N] [aedes] [DIR]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { ClientDriver } from './lib/client-driver.ts';
import { asPlain, startKeyport, startPlainAedes } from './lib/brokers.ts';
import { asConnect, provision } from './lib/provision.ts';

const n = Number(process.argv[2] ?? 2000);
const plain = process.argv[3] === 'aedes';
const dir = process.argv[4] ?? '/tmp';
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function summarize(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = f.length;
  const [it, iname, isize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + it] as number] as string;
    let name = snap.strings[snap.nodes[i + iname] as number] as string;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    else if (type === 'code') name = '(code)';
    else if (type === 'number') name = '(number)';
    else if (type === 'closure') name = `closure ${name}`;
    else if (type === 'array') name = `(array) ${name}`;
    else if (type === 'hidden') name = `(hidden) ${name}`;
    const key = `${type}:${name.slice(0, 80)}`;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + isize] as number;
    out.set(key, e);
  }
  return out;
}

const driver = await ClientDriver.start();
const keyport = await startKeyport();
const aedes = await startPlainAedes();
const side = plain ? aedes : keyport;
try {
  const creds = await provision(keyport.service, n);
  await keyport.service.store.flush();
  const list = plain ? creds.map((c) => asPlain(c.deviceId)) : creds.map(asConnect);
  // Warm-up round: JIT, status records, pools.
  await driver.connect(side.port, list, { concurrency: 100, hold: true, capMs: 120_000 });
  await keyport.service.store.flush();
  await driver.release();
  await side.settle();
  for (let i = 0; i < 5; i++) gc();
  const f0 = writeHeapSnapshot(join(dir, `${plain ? 'aedes' : 'keyport'}-0.heapsnapshot`));
  const res = await driver.connect(side.port, list, { concurrency: 100, hold: true, capMs: 120_000 });
  await keyport.service.store.flush();
  for (let i = 0; i < 5; i++) gc();
  const f1 = writeHeapSnapshot(join(dir, `${plain ? 'aedes' : 'keyport'}-1.heapsnapshot`));
  await driver.release();
  const a = summarize(f0);
  const b = summarize(f1);
  const rows: [string, number, number][] = [];
  let total = 0;
  for (const [k, v] of b) {
    const w = a.get(k) ?? { count: 0, size: 0 };
    const d = v.size - w.size;
    total += d;
    if (Math.abs(d) / res.connected >= 8) rows.push([k, (v.count - w.count) / res.connected, d / res.connected]);
  }
  rows.sort((x, y) => y[2] - x[2]);
  process.stdout.write(
    `${side.name}: ${res.connected} clients, ${(total / res.connected).toFixed(0)} B/client retained\n`,
  );
  for (const [k, c, s] of rows)
    process.stdout.write(`${s.toFixed(1).padStart(8)} B ${c.toFixed(2).padStart(6)}×  ${k}\n`);
} finally {
  driver.close();
  await Promise.allSettled([keyport.stop(), aedes.stop()]);
}
