// Renders the README "Performance" section from a run's results (bench/README-section.md, and
// README.md between its markers, readme-splice.ts): the machine, the date and the noise, the
// issue 17 targets each met or not, the size curve, then the comparisons.
import { curveTable } from './curve.ts';
import { loadText, roundSpread } from './noise.ts';
import { markdownTable, type Cell } from './table.ts';
import { fmt, fmtRatio } from './stats.ts';
import { issueTargets, verdictText } from './targets.ts';

type J = Record<string, unknown>;
const o = (v: unknown): J => (v && typeof v === 'object' ? (v as J) : {});
const n = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const arr = (v: unknown): J[] => (Array.isArray(v) ? (v as J[]) : []);

function side(list: J[], name: string): J {
  return list.find((r) => r.side === name) ?? {};
}

/**
 * "What each piece costs" (bench/cost.ts): one row per piece of Keyport's work with what switching
 * it off saved, per CONNECT and per message, then everything on and the floor against plain aedes.
 * Nothing when the run has no such section.
 */
function costSection(c: J): string[] {
  const con = o(c.connect);
  if (!Array.isArray(con.rows)) return [];
  const pub = o(c.publish);
  const cols = [con, o(pub.stateQos0), o(pub.stateQos1), o(pub.customQos0)];
  const row = (col: J, id: string): J | undefined => arr(col.rows).find((r) => r.id === id);
  // The variants' ids in bench/cost.ts: 'on', each piece's, 'floor'.
  const pieces = [
    ['the decision event (feed ring, decision log line, live listeners)', 'decision'],
    ["the device's connection status (store put, journal line, event)", 'status'],
    ["the key's last-use record", 'lastUse'],
    ['the state intake (parse, validate, merge, store, history)', 'state'],
  ] as const;
  const cell = (r: J | undefined, f: string, ratio = false): string =>
    r === undefined ? '' : ratio ? fmtRatio(n(r[f])) : fmt(n(r[f]));
  // A column the run did not measure stays empty.
  const figure = (col: J, f: string, ratio = false): string => (col.rows === undefined ? '' : cell(col, f, ratio));
  const rows: Cell[][] = [
    ...pieces.map(([label, id]) => [
      `without ${label}: saved (µs)`,
      ...cols.map((col) => cell(row(col, id), 'savedUs')),
    ]),
    ['everything on: broker CPU (µs)', ...cols.map((col) => cell(row(col, 'on'), 'cpuUs'))],
    ['everything on vs plain aedes (CPU)', ...cols.map((col) => cell(row(col, 'on'), 'cpuVsAedes', true))],
    ['floor, every piece above off, vs plain aedes (CPU)', ...cols.map((col) => figure(col, 'floorCpuVsAedes', true))],
    ['plain aedes: broker CPU (µs)', ...cols.map((col) => figure(col, 'aedesCpuUs'))],
  ];
  return [
    '### What each piece costs',
    '',
    markdownTable(
      ['', 'per CONNECT', 'per state report, QoS 0', 'per state report, QoS 1', 'per custom-topic message, QoS 0'],
      rows,
    ),
    '',
    `The same runs as above on one Keyport side with pieces of its work switched off, one at a time and then together ("floor"), beside plain aedes, alternating pass by pass (${String(c.passes)} passes after a warm-up; ${fmt(n(c.clients))} clients, ${fmt(n(c.messages))} messages; savings are paired medians, so they need not add up). A piece is switched off by replacing one method of the running service in the bench process: the product has no such switch. What stays above plain aedes at the floor is the access check itself (per CONNECT: key lookup, secret HMAC, address, device and scope checks, the session) or the topic check and delivery re-check (per message); on the custom topic the floor is Keyport without its decision event. \`npm run bench -- --only cost\`.`,
    '',
  ];
}

export function renderReadmeSection(result: J, source = 'bench/results/latest.json'): string {
  const m = o(result.machine);
  const s = o(result.sections);
  const c = o(s.connect);
  const p = o(s.publish);
  const k = o(s.keys);
  const f = o(s.fleet);
  const out: string[] = [];
  out.push('## Performance', '');
  out.push(
    "`npm run bench` measures what access keys cost: Keyport (every CONNECT check, every PUBLISH, SUBSCRIBE and delivery check, the decision feed on, the store on disk) against plain aedes 1.2.0 (the same broker library with one fixed password) and Debian's mosquitto (a C broker with a password file). The sides of each comparison run in the same run, alternating round by round, on 127.0.0.1; ratios are medians of per-round ratios, absolute figures medians over rounds.",
    '',
  );
  const noise = o(result.noise);
  const spread = roundSpread(result);
  const kind =
    result.kind === 'full' && !result.only
      ? 'full run'
      : `${String(result.kind)} run${Array.isArray(result.only) ? ` of ${(result.only as string[]).join(', ')} only` : ''}`;
  out.push(
    `Figures from \`${source}\` (${kind} of ${String(result.date ?? '')
      .slice(0, 16)
      .replace('T', ' ')} UTC, ${fmt(n(result.seconds))} s).`,
    '',
    `Machine: ${String(m.nproc)} cores (\`nproc\`), ${String(m.cpuModel)}, ${String(m.memoryGiB)} GiB, Node ${String(m.node)}, ${String(m.platform)}, aedes ${String(m.aedes)}, ${String(m.mosquitto)}.`,
    '',
    `Noise: load average (1 / 5 / 15 min) ${loadText(noise.loadAvgStart)} at the start and ${loadText(noise.loadAvgEnd)} at the end (the bench shares the machine with whatever else runs); the spread of the alternating rounds ((max − min) / median of one figure over its rounds) was ${fmt(spread.medianPct)} % in the median and ${fmt(spread.maxPct)} % at most over ${String(spread.series)} series. Ratios of sides measured in the same rounds are steadier than the absolute figures.`,
    '',
  );

  out.push('### Targets (issue 17)', '');
  out.push(
    markdownTable(
      ['target', 'measured', 'limit', 'verdict'],
      issueTargets(result).map((t) => [t.name, t.measured, t.limit, verdictText(t.met)]),
    ),
    '',
  );

  const curve = curveTable(result);
  out.push('### Curve', '');
  out.push(markdownTable(curve.header, curve.rows), '');
  const sub = o(s.subs);
  if (sub.results !== undefined)
    out.push(
      `Publish CPU with subscriptions: one device reports ${String(sub.statePayloadBytes)}-byte state (QoS 0, stored by Keyport, relayed by plain aedes) while N clients, each its own device and key, are connected: with "1 subscriber matching" one watches the state topic and the others their own command topic; with "every subscriber matching" all of them watch it (N deliveries per PUBLISH). Broker CPU per PUBLISH, Keyport (plain aedes in brackets), median of ${String(sub.rounds)} alternating rounds. \`npm run bench -- --only subs\`.`,
      '',
    );

  const cr = arr(c.results);
  const q0 = arr(p.qos0);
  const q1 = arr(p.qos1);
  const kp = 'Keyport';
  // The headline publish figure is the state topic's (issue 17); runs made before it have none.
  const stateRatios = (): string => {
    const [s0, s1] = (['qos0', 'qos1'] as const).map((q) => arr(o(p.state)[q]));
    if (!s0?.length || !s1?.length) return ' and ';
    return `, reporting state at ${fmtRatio(n(side(s0, kp).rateVsAedes))} (QoS 0) and ${fmtRatio(n(side(s1, kp).rateVsAedes))} (QoS 1), and `;
  };
  const ae = 'plain aedes';
  const mq = 'mosquitto';
  const rows: Cell[][] = [
    [
      `Connect: ${String(c.clients)} clients, ${String(c.inFlight)} in flight (connects/s)`,
      fmt(n(side(cr, kp).connPerSec)),
      fmt(n(side(cr, ae).connPerSec)),
      fmt(n(side(cr, mq).connPerSec)),
      fmtRatio(n(side(cr, kp).rateVsAedes)),
      '≥ 0.9×',
    ],
    [
      'Connect: broker CPU per connect (µs)',
      fmt(n(side(cr, kp).cpuUsPerConnect)),
      fmt(n(side(cr, ae).cpuUsPerConnect)),
      fmt(n(side(cr, mq).cpuUsPerConnect)),
      fmtRatio(n(side(cr, kp).cpuVsAedes)),
      '',
    ],
    // The state topic (issue 17): the headline publish figure. Absent from runs made before it.
    ...(['qos0', 'qos1'] as const).flatMap((q): Cell[][] => {
      const st = arr(o(p.state)[q]);
      if (st.length === 0) return [];
      const label = `Publish QoS ${q.slice(3)}, state topic losant/{id}/state, stored`;
      return [
        [
          `${label}: ${fmt(n(p.count))} × ${String(p.statePayloadBytes)} B (msg/s)`,
          fmt(n(side(st, kp).msgPerSec)),
          fmt(n(side(st, ae).msgPerSec)),
          fmt(n(side(st, mq).msgPerSec)),
          fmtRatio(n(side(st, kp).rateVsAedes)),
          '≥ 0.8×',
        ],
        [
          `${label}: broker CPU per message (µs)`,
          fmt(n(side(st, kp).cpuUsPerMsg)),
          fmt(n(side(st, ae).cpuUsPerMsg)),
          fmt(n(side(st, mq).cpuUsPerMsg)),
          fmtRatio(n(side(st, kp).cpuVsAedes)),
          '',
        ],
      ];
    }),
    [
      `Publish QoS 0, custom topic: ${fmt(n(p.count))} × ${String(p.size)} B (msg/s)`,
      fmt(n(side(q0, kp).msgPerSec)),
      fmt(n(side(q0, ae).msgPerSec)),
      fmt(n(side(q0, mq).msgPerSec)),
      fmtRatio(n(side(q0, kp).rateVsAedes)),
      '≥ 0.95×',
    ],
    [
      'Publish QoS 0, custom topic: broker CPU per message (µs)',
      fmt(n(side(q0, kp).cpuUsPerMsg)),
      fmt(n(side(q0, ae).cpuUsPerMsg)),
      fmt(n(side(q0, mq).cpuUsPerMsg)),
      fmtRatio(n(side(q0, kp).cpuVsAedes)),
      '',
    ],
    [
      `Publish QoS 1, custom topic: ${fmt(n(p.count))} × ${String(p.size)} B (msg/s)`,
      fmt(n(side(q1, kp).msgPerSec)),
      fmt(n(side(q1, ae).msgPerSec)),
      fmt(n(side(q1, mq).msgPerSec)),
      fmtRatio(n(side(q1, kp).rateVsAedes)),
      '≥ 0.95×',
    ],
    [
      'Publish QoS 1, custom topic: broker CPU per message (µs)',
      fmt(n(side(q1, kp).cpuUsPerMsg)),
      fmt(n(side(q1, ae).cpuUsPerMsg)),
      fmt(n(side(q1, mq).cpuUsPerMsg)),
      fmtRatio(n(side(q1, kp).cpuVsAedes)),
      '',
    ],
  ];
  out.push('### Against plain aedes and mosquitto', '');
  out.push(
    markdownTable(['measure', 'Keyport', 'plain aedes', 'mosquitto', 'Keyport vs plain aedes', 'target'], rows),
    '',
  );

  const kc = arr(k.connect);
  const kq = arr(o(k.query).results);
  const cr0 = o(o(k.create).concurrent);
  const cr1 = o(o(k.create).sequential);
  out.push(
    `Mosquitto has ${String(c.mosquittoUsers)} password-file users shared round-robin by the connecting clients (one user per client would take minutes to create with \`mosquitto_passwd\`); every client still has its own client id. Publishing uses one single-device key per side with a whitelist rule (\`bench/#\`) and at most ${String(p.window)} messages between publisher and subscriber for every broker.`,
    '',
    `Where Keyport's extra time goes. Per CONNECT: the getpeername call for the source address, the HMAC check of the secret, the address, device and scope checks, one decision-feed event, the session, and the device's connection status (a store record that reaches the disk with the next store write or within a second, see \`PutOptions.lazy\` in src-main/store/store.ts). Per PUBLISH: the topic check against the key, one decision-feed event, the delivery re-check per subscriber, and the message counters. Plain aedes does none of these (the next table measures what each costs). On this machine that leaves the connect rate at ${fmtRatio(n(side(cr, kp).rateVsAedes))} of plain aedes (target 0.9×)${stateRatios()}publishing on a custom topic at ${fmtRatio(n(side(q0, kp).rateVsAedes))} (QoS 0) and ${fmtRatio(n(side(q1, kp).rateVsAedes))} (QoS 1).`,
    '',
  );
  out.push(...costSection(o(s.cost)));
  out.push('### Key count', '');
  out.push(
    markdownTable(
      [
        'keys in the store',
        'CONNECT p50 (ms)',
        'broker CPU per connect + disconnect (µs)',
        'advanced query, median (ms)',
      ],
      kc.map((r, i) => [fmt(n(r.keys)), fmt(n(r.connectP50Ms)), fmt(n(r.cpuUsPerConnect)), fmt(n(kq[i]?.medianMs))]),
    ),
    '',
  );
  out.push(
    `CONNECT at 100,000 keys vs the smallest store: ${fmtRatio(n(o(k.ratios).connectLatency100kVs100))} (target ≤ 1.1×; the key is found through an index). Query: \`status\` active AND (\`name\` contains "therm", case-insensitive, OR tag type=thermostat), through \`service.keys.list\` (target under 20 ms at 10,000 keys). Lookup stores were built directly in memory (\`createMemoryStore\`), not through the service. Creating ${fmt(n(cr0.keys))} keys through \`service.keys.create\` on the lowdb store, 100 at a time: ${fmt(n(cr0.seconds))} s (${fmt(n(cr0.keysPerSec))} keys/s, ${String(cr0.writes)} file writes); one at a time, each waiting for its own durable write: ${fmt(n(cr1.keysPerSec))} keys/s for ${fmt(n(cr1.keys))} keys.`,
    '',
  );

  const rs = o(f.restart);
  out.push('### Fleet', '');
  out.push(
    markdownTable(
      ['measure', 'value'],
      [
        ['simulated devices (own key each), broker + simulator in one process', fmt(n(f.devices))],
        ['create devices and keys, then connect (s)', fmt(n(f.createAndConnectSeconds))],
        ['connect all, fleets started together (s)', fmt(n(f.connectAllSeconds))],
        ['memory per device, broker + simulator (KB; target < 64)', fmt(n(f.memoryPerDeviceKB))],
        ['  of which the live connection (KB)', fmt(n(f.connectionMemoryPerDeviceKB))],
        ['broker restart: new runtime listening (s)', fmt(n(rs.listeningSeconds))],
        ['reconnect storm: every device connected again (s after the restart began)', fmt(n(rs.allReconnectedSeconds))],
      ],
    ),
    '',
  );

  const cli = o(s.cli);
  if (cli.devicesListP50 !== undefined) {
    const row = (name: string) => arr(cli.results).find((r) => String(r.name).startsWith(name)) ?? {};
    const list = row('keyport devices list');
    const node = row('node -e 0');
    const tsx = row('devices list through tsx');
    out.push('### CLI start-up', '');
    out.push(
      `\`keyport devices list\` with no server running, spawned, spawn to exit (${String(cli.rounds)} runs, ${String(cli.date ?? result.date ?? '').slice(0, 10)}${cli.machine ? `, ${String(cli.machine)}` : ''}): p50 ${fmt(n(list.p50))} ms, best ${fmt(n(list.min))} ms (target < 300 ms), where bare \`node -e 0\` took p50 ${fmt(n(node.p50))} / best ${fmt(n(node.min))} ms in the same run; the bin before the bundle (tsx) took p50 ${fmt(n(tsx.p50))} ms. \`npm run bench -- --only cli\`.`,
      '',
    );
  }

  out.push('### Reproduce', '');
  out.push(
    '```sh',
    'npm run bench                      # full run; writes bench/results/latest.json, reference.json and bench/README-section.md',
    'npm run bench -- --readme          # this section, from bench/results/latest.json, into README.md (between its markers)',
    'npm run bench -- --quick           # smaller counts',
    'npm run bench -- --only subs       # one part: connect | publish | subs | keys | tags | auth | fleet | cli | wire | store | cluster | cost (comma-separated for several)',
    '```',
    '',
    "Needs Debian's `mosquitto` and `mosquitto_passwd` (the bench starts its own mosquitto on a free loopback port with a password file and `allow_anonymous false`, and stops it at the end). Clients are raw MQTT 3.1.1 packets from a forked child process, so `process.cpuUsage()` of the bench process is the in-process broker; mosquitto's CPU is read from `/proc/<pid>/stat`. Everything runs on 127.0.0.1, every loop is bounded in count and time. `--quick` uses 1,000 connecting clients, 20,000 messages, 200 connects per key-count round, 2,000 created keys and a 1,000-device fleet.",
    '',
  );
  return out.join('\n');
}
