// electron-builder.yml checked the way electron-builder itself checks it before packaging:
// its own validateConfiguration (scheme.json through ajv, app-builder-lib/out/util/config) —
// an unknown key fails there before any download. Packaging itself needs the network.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(join(root, 'package.json'));

type Config = Record<string, unknown> & {
  linux?: Record<string, unknown>;
  mac?: Record<string, unknown>;
  directories?: Record<string, unknown>;
  files?: string[];
  icon?: string;
};
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(
    config: unknown,
    debugLogger: { isEnabled: boolean; add(key: string, value: unknown): void },
  ): Promise<void>;
};
const builderVersion = (require('electron-builder/package.json') as { version: string }).version;

const load = (): Config => yaml.load(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Config;
const validate = (config: unknown) => validateConfiguration(config, { isEnabled: false, add: () => {} });

// The same schema with ajv directly, for precise error paths in the assertions below.
const Ajv = (
  require('ajv') as {
    default: new (o: object) => {
      compile(
        s: object,
      ): ((d: unknown) => boolean) & {
        errors?: Array<{ instancePath: string; keyword: string; params: Record<string, unknown> }> | null;
      };
    };
  }
).default;
const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
const ajvValidate = new Ajv({ allErrors: true, coerceTypes: true, strict: false }).compile(schema);

describe('electron-builder.yml', () => {
  it(`passes electron-builder ${builderVersion}'s own configuration check`, async () => {
    await expect(validate(load())).resolves.toBeUndefined();
    expect(ajvValidate(load())).toBe(true);
  });

  it('fails that check with an unknown key (so the check is real)', async () => {
    const bad = load();
    bad.linux = { ...bad.linux, bogus: 1 };
    await expect(validate(bad)).rejects.toThrow(/Invalid configuration object[\s\S]*configuration\.linux/);
    expect(ajvValidate(bad)).toBe(false);
    expect(ajvValidate.errors).toContainEqual(
      expect.objectContaining({
        instancePath: '/linux',
        keyword: 'additionalProperties',
        params: { additionalProperty: 'bogus' },
      }),
    );

    const badRoot = { ...load(), bogusRoot: true };
    await expect(validate(badRoot)).rejects.toThrow(/unknown property 'bogusRoot'/);
  });

  it('has the identity, targets and categories the app ships with', () => {
    const c = load();
    expect(c).toMatchObject({
      appId: 'dev.keyport.app',
      productName: 'Keyport',
      directories: { output: 'dist', buildResources: 'resources' },
      icon: 'resources/icon.png',
      linux: { target: ['AppImage', 'deb'], category: 'Development', maintainer: expect.stringMatching(/<.+@.+>/) },
      mac: { target: ['dmg'], category: 'public.app-category.developer-tools' },
      win: { target: ['nsis'] },
    });
  });

  it('packages the build output, not the sources or tests', () => {
    const files = load().files ?? [];
    expect(files).toContain('out/**/*');
    expect(files).toContain('package.json');
    for (const excluded of ['!src-main/**', '!src-renderer/**', '!test/**']) expect(files).toContain(excluded);
    expect(files.filter((f) => !f.startsWith('!')).sort()).toEqual(['out/**/*', 'package.json']);
  });

  it('is not shadowed by a "build" key in package.json (which electron-builder would read instead)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.build).toBeUndefined();
  });
});

describe('resources/icon.png', () => {
  const png = readFileSync(join(root, 'resources', 'icon.png'));

  it('is a 512x512 8-bit RGBA PNG (IHDR)', () => {
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(8)).toBe(13);
    expect(png.toString('ascii', 12, 16)).toBe('IHDR');
    expect({
      width: png.readUInt32BE(16),
      height: png.readUInt32BE(20),
      bitDepth: png[24],
      colourType: png[25],
      interlace: png[28],
    }).toEqual({
      width: 512,
      height: 512,
      bitDepth: 8,
      colourType: 6,
      interlace: 0,
    });
  });

  it('decodes: its image data inflates to 512 rows of 512 RGBA pixels', () => {
    const idat: Buffer[] = [];
    let end = false;
    for (let off = 8; off < png.length;) {
      const len = png.readUInt32BE(off);
      const type = png.toString('ascii', off + 4, off + 8);
      if (type === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
      if (type === 'IEND') end = true;
      off += 12 + len;
    }
    expect(end).toBe(true);
    expect(inflateSync(Buffer.concat(idat)).length).toBe(512 * (1 + 512 * 4));
  });
});
