// Secret file formats (docs/design.md §3): what firmware needs to connect, as it is. Pure text rendering;
// the caller writes the file with mode 0600.
export const EXPORT_FORMATS = ['env', 'json', 'csv', 'c-header', 'arduino', 'platformio'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const FORMAT_EXTENSIONS: Record<ExportFormat, string> = {
  env: '.env',
  json: '.json',
  csv: '.csv',
  'c-header': '.h',
  arduino: '.h',
  platformio: '.ini',
};

export interface SecretBundle {
  keyId: string;
  key: string;
  secret: string;
  /** The device the key is scoped to, when it is a single-device key. */
  deviceId?: string;
  name?: string;
  host: string;
  mqttPort: number;
  wsPort: number;
  tlsPort: number;
}

const FIELDS = [
  ['LOSANT_DEVICE_ID', (b: SecretBundle) => b.deviceId ?? ''],
  ['LOSANT_ACCESS_KEY', (b: SecretBundle) => b.key],
  ['LOSANT_ACCESS_SECRET', (b: SecretBundle) => b.secret],
  ['MQTT_HOST', (b: SecretBundle) => b.host],
  ['MQTT_PORT', (b: SecretBundle) => String(b.mqttPort)],
  ['MQTT_WS_PORT', (b: SecretBundle) => String(b.wsPort)],
  ['MQTT_TLS_PORT', (b: SecretBundle) => String(b.tlsPort)],
] as const;

const isNumeric = (name: string): boolean => name.endsWith('_PORT');
const cString = (s: string): string => JSON.stringify(s); // ids, UUIDs, hex and host names only

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

// A key name is free text (it may hold line breaks); on a one-line comment it must not end the
// comment and turn the rest into code (C header) or into NAME=value lines (env).
// eslint-disable-next-line no-control-regex -- replacing control characters is the point
const oneLine = (s: string): string => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');

function header(comment: string, b: SecretBundle): string {
  return (
    oneLine(`${comment} Keyport access key ${b.keyId}${b.name ? ` (${b.name})` : ''}. Keep this file secret.`) + '\n'
  );
}

/** RFC 4180 rows: quoted cells may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  row.push(cell);
  rows.push(row);
  return rows;
}

export function renderSecrets(format: ExportFormat, bundles: readonly SecretBundle[]): string {
  const first = bundles[0];
  if (!first) throw new Error('nothing to export');
  if (format === 'csv') {
    const cols = ['keyId', 'name', ...FIELDS.map(([n]) => n)];
    const rows = bundles.map((b) => [b.keyId, b.name ?? '', ...FIELDS.map(([, f]) => f(b))].map(csvCell).join(','));
    return [cols.join(','), ...rows].join('\n') + '\n';
  }
  if (format === 'json') {
    const one = (b: SecretBundle) => ({
      keyId: b.keyId,
      name: b.name,
      deviceId: b.deviceId,
      key: b.key,
      secret: b.secret,
      mqtt: { host: b.host, port: b.mqttPort, wsPort: b.wsPort, tlsPort: b.tlsPort },
    });
    return JSON.stringify(bundles.length === 1 ? one(first) : bundles.map(one), null, 2) + '\n';
  }
  if (bundles.length !== 1) throw new Error(`format ${format} holds one key; use csv or json for several`);
  const b = first;
  switch (format) {
    case 'env':
      return header('#', b) + FIELDS.map(([n, f]) => `${n}=${f(b)}`).join('\n') + '\n';
    case 'c-header':
    case 'arduino': {
      const guard = format === 'arduino' ? 'SECRETS_H' : 'KEYPORT_CREDENTIALS_H';
      const prefix = format === 'arduino' ? 'SECRET_' : '';
      const lines = FIELDS.map(([n, f]) => `#define ${prefix}${n} ${isNumeric(n) ? f(b) : cString(f(b))}`);
      return `${header('//', b)}#ifndef ${guard}\n#define ${guard}\n\n${lines.join('\n')}\n\n#endif\n`;
    }
    case 'platformio': {
      const flags = FIELDS.map(([n, f]) => `  -D ${n}=${isNumeric(n) ? f(b) : `'"${f(b)}"'`}`);
      return `${header(';', b)}; include with: extra_configs = this file, or copy build_flags into platformio.ini\n[env]\nbuild_flags =\n${flags.join('\n')}\n`;
    }
  }
}

/** Read back a secrets file in any of the formats above (for the simulator and the CLI). */
export function parseSecrets(text: string): { key: string; secret: string; deviceId?: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const j = JSON.parse(trimmed) as unknown;
    const o = (Array.isArray(j) ? j[0] : j) as Record<string, unknown> | undefined;
    if (!o || typeof o.key !== 'string' || typeof o.secret !== 'string')
      throw new Error('JSON secrets file has no "key" and "secret"');
    return {
      key: o.key,
      secret: o.secret,
      ...(typeof o.deviceId === 'string' && o.deviceId ? { deviceId: o.deviceId } : {}),
    };
  }
  const values = new Map<string, string>();
  const lines = trimmed.split(/\r?\n/);
  if (lines[0]?.startsWith('keyId,')) {
    const [cols = [], row = []] = parseCsv(trimmed);
    cols.forEach((c, i) => values.set(c, row[i] ?? ''));
  } else {
    for (const line of lines) {
      const m = /(?:^#define\s+(?:SECRET_)?|^\s*-D\s+|^)([A-Z_]+)[=\s]+'?"?([^"'\s]*)"?'?\s*$/.exec(line);
      if (m?.[1] && m[2] !== undefined) values.set(m[1], m[2]);
    }
  }
  const key = values.get('LOSANT_ACCESS_KEY');
  const secret = values.get('LOSANT_ACCESS_SECRET');
  if (!key || !secret) throw new Error('secrets file has no LOSANT_ACCESS_KEY and LOSANT_ACCESS_SECRET');
  const deviceId = values.get('LOSANT_DEVICE_ID');
  return { key, secret, ...(deviceId ? { deviceId } : {}) };
}
