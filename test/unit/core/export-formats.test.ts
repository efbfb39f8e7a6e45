import { describe, expect, it } from 'vitest';
import {
  EXPORT_FORMATS,
  FORMAT_EXTENSIONS,
  parseSecrets,
  renderSecrets,
  type ExportFormat,
  type SecretBundle,
} from '../../../src-main/core/export-formats.ts';
import { generateKey, generateSecret } from '../../../src-main/core/secrets.ts';
import { hexId } from '../../helpers/core-fixtures.ts';

function bundle(overrides: Partial<SecretBundle> = {}): SecretBundle {
  return {
    keyId: hexId(0xabc),
    key: generateKey(),
    secret: generateSecret(),
    deviceId: hexId(0xdef),
    name: 'Kitchen sensor key',
    host: 'broker.local',
    mqttPort: 1883,
    wsPort: 8083,
    tlsPort: 8883,
    ...overrides,
  };
}

const DEFINE = /^#define [A-Z_][A-Z0-9_]*(?: (?:\d+|"(?:[^"\\\n]|\\.)*"))?$/;

/** Every line of a C header is a comment, a blank, an include guard or a well-formed #define. */
function expectValidCHeader(text: string, guard: string): void {
  const lines = text.trimEnd().split('\n');
  expect(lines).toContain(`#ifndef ${guard}`);
  expect(lines).toContain(`#define ${guard}`);
  expect(lines.at(-1)).toBe('#endif');
  for (const line of lines) {
    const ok =
      line === '' || line.startsWith('// ') || line === `#ifndef ${guard}` || line === '#endif' || DEFINE.test(line);
    expect(ok, `not a valid header line: ${JSON.stringify(line)}`).toBe(true);
  }
}

describe('renderSecrets: every format carries what firmware needs', () => {
  it.each(EXPORT_FORMATS.map((f) => [f]))('%s', (format) => {
    const b = bundle();
    const text = renderSecrets(format, [b]);
    for (const v of [b.key, b.secret, b.deviceId!, b.host, '1883', '8083', '8883']) expect(text).toContain(v);
    expect(text.endsWith('\n')).toBe(true);
  });

  it.each<[ExportFormat, string]>([
    ['env', '.env'],
    ['json', '.json'],
    ['csv', '.csv'],
    ['c-header', '.h'],
    ['arduino', '.h'],
    ['platformio', '.ini'],
  ])('%s files end in %s', (format, ext) => {
    expect(FORMAT_EXTENSIONS[format]).toBe(ext);
  });

  it('env: one NAME=value line per field', () => {
    const b = bundle();
    const lines = renderSecrets('env', [b]).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^# /);
    expect(lines.slice(1)).toEqual([
      `LOSANT_DEVICE_ID=${b.deviceId}`,
      `LOSANT_ACCESS_KEY=${b.key}`,
      `LOSANT_ACCESS_SECRET=${b.secret}`,
      'MQTT_HOST=broker.local',
      'MQTT_PORT=1883',
      'MQTT_WS_PORT=8083',
      'MQTT_TLS_PORT=8883',
    ]);
  });

  it('c-header: valid #define lines, strings quoted, ports bare', () => {
    const b = bundle();
    const text = renderSecrets('c-header', [b]);
    expectValidCHeader(text, 'KEYPORT_CREDENTIALS_H');
    expect(text).toContain(`#define LOSANT_ACCESS_KEY "${b.key}"`);
    expect(text).toContain(`#define LOSANT_ACCESS_SECRET "${b.secret}"`);
    expect(text).toContain(`#define LOSANT_DEVICE_ID "${b.deviceId}"`);
    expect(text).toContain('#define MQTT_PORT 1883\n');
  });

  it('arduino: secrets.h with SECRET_ names', () => {
    const b = bundle();
    const text = renderSecrets('arduino', [b]);
    expectValidCHeader(text, 'SECRETS_H');
    expect(text).toContain(`#define SECRET_LOSANT_ACCESS_KEY "${b.key}"`);
    expect(text).toContain(`#define SECRET_LOSANT_ACCESS_SECRET "${b.secret}"`);
    expect(text).toContain('#define SECRET_MQTT_TLS_PORT 8883\n');
  });

  it.each<[string, Partial<SecretBundle>]>([
    ['a name with a newline', { name: 'evil\n#define LOSANT_ACCESS_KEY "x"' }],
    ['a name with CR and a trailing backslash', { name: 'a\r\nb\\' }],
    ['no name and no device', { name: undefined, deviceId: undefined }],
  ])('headers stay valid with %s', (_what, overrides) => {
    const b = bundle(overrides);
    expectValidCHeader(renderSecrets('c-header', [b]), 'KEYPORT_CREDENTIALS_H');
    expectValidCHeader(renderSecrets('arduino', [b]), 'SECRETS_H');
    for (const format of ['env', 'platformio'] as const) {
      expect(parseSecrets(renderSecrets(format, [b]))).toEqual({
        key: b.key,
        secret: b.secret,
        ...(b.deviceId ? { deviceId: b.deviceId } : {}),
      });
    }
  });

  it('platformio: an [env] section with -D build flags', () => {
    const b = bundle();
    const text = renderSecrets('platformio', [b]);
    expect(text).toContain('[env]\nbuild_flags =\n');
    expect(text).toContain(`  -D LOSANT_ACCESS_KEY='"${b.key}"'`);
    expect(text).toContain('  -D MQTT_PORT=1883');
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^(;|\[env\]$|build_flags =$| {2}-D [A-Z_]+=)/);
  });

  it('json: one object, or an array for several keys', () => {
    const b = bundle();
    expect(JSON.parse(renderSecrets('json', [b]))).toEqual({
      keyId: b.keyId,
      name: b.name,
      deviceId: b.deviceId,
      key: b.key,
      secret: b.secret,
      mqtt: { host: 'broker.local', port: 1883, wsPort: 8083, tlsPort: 8883 },
    });
    const two = JSON.parse(renderSecrets('json', [b, bundle()])) as unknown[];
    expect(two).toHaveLength(2);
  });

  it('csv with 2 keys has 3 lines (header + one per key)', () => {
    const [a, b] = [bundle(), bundle({ deviceId: undefined })];
    const lines = renderSecrets('csv', [a, b]).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      'keyId,name,LOSANT_DEVICE_ID,LOSANT_ACCESS_KEY,LOSANT_ACCESS_SECRET,MQTT_HOST,MQTT_PORT,MQTT_WS_PORT,MQTT_TLS_PORT',
    );
    expect(lines[1]).toContain(a.secret);
    expect(lines[2]).toContain(b.secret);
  });

  it('csv quotes cells that would break the row or be read as a spreadsheet formula', () => {
    const text = renderSecrets('csv', [bundle({ name: '=HYPERLINK("x")' }), bundle({ name: 'a, b' })]);
    expect(text).toContain('"=HYPERLINK(""x"")"');
    expect(text).toContain('"a, b"');
  });

  it('refuses nothing to export', () => {
    expect(() => renderSecrets('env', [])).toThrow(/nothing to export/);
    expect(() => renderSecrets('csv', [])).toThrow(/nothing to export/);
  });

  it.each(['env', 'c-header', 'arduino', 'platformio'] as const)('%s holds one key: 2 bundles throw', (format) => {
    expect(() => renderSecrets(format, [bundle(), bundle()])).toThrow(/holds one key; use csv or json/);
  });
});

describe('parseSecrets reads back every format', () => {
  const cases: [ExportFormat, Partial<SecretBundle>][] = [];
  const variants: Partial<SecretBundle>[] = [
    {},
    { deviceId: undefined },
    { name: undefined },
    { name: 'Kitchen, north "A"' },
    { name: '-leading dash' },
    { name: 'two\nlines\r\nLOSANT_ACCESS_KEY=evil' },
  ];
  for (const f of EXPORT_FORMATS) for (const v of variants) cases.push([f, v]);

  it.each(cases)('%s %j', (format, overrides) => {
    const b = bundle(overrides);
    const parsed = parseSecrets(renderSecrets(format, [b]));
    expect(parsed).toEqual({ key: b.key, secret: b.secret, ...(b.deviceId ? { deviceId: b.deviceId } : {}) });
  });

  it.each(['csv', 'json'] as const)('%s with several keys gives the first', (format) => {
    const a = bundle();
    const parsed = parseSecrets(renderSecrets(format, [a, bundle()]));
    expect(parsed).toEqual({ key: a.key, secret: a.secret, deviceId: a.deviceId });
  });

  it('reads CRLF files (edited on Windows)', () => {
    const b = bundle();
    for (const format of ['env', 'c-header', 'arduino', 'platformio', 'csv'] as const) {
      const text = renderSecrets(format, [b]).replaceAll('\n', '\r\n');
      expect(parseSecrets(text)).toMatchObject({ key: b.key, secret: b.secret });
    }
  });

  it.each<[string, string, RegExp]>([
    ['an empty file', '', /LOSANT_ACCESS_KEY/],
    ['env without a secret', 'LOSANT_ACCESS_KEY=abc\n', /LOSANT_ACCESS_SECRET/],
    ['json without a secret', '{"key": "abc"}', /"secret"/],
    ['an empty json array', '[]', /"key"/],
  ])('rejects %s', (_what, text, message) => {
    expect(() => parseSecrets(text)).toThrow(message);
  });
});
