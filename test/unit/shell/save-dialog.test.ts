import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({ dialog: { showSaveDialog: vi.fn() } }));

import { dialog, type BrowserWindow, type SaveDialogOptions } from 'electron';
import {
  MAX_CONTENT_BYTES,
  SaveRequestError,
  saveSecretsWithDialog,
  validateSaveRequest,
} from '../../../src-main/shell/save-dialog.ts';

const showSaveDialog = vi.mocked(dialog.showSaveDialog) as unknown as ReturnType<typeof vi.fn>;
const WIN = { id: 1 } as unknown as BrowserWindow;
const DOCS = join('/home', 'someone', 'Documents');
const CONTENT = 'KEYPORT_DEVICE_ID=0123456789abcdef01234567\nKEYPORT_ACCESS_KEY=k\nKEYPORT_ACCESS_SECRET=s3cr3t\n';
const POSIX = process.platform !== 'win32';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyport-save-'));
  showSaveDialog.mockReset();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const chooses = (filePath: string) => showSaveDialog.mockResolvedValue({ canceled: false, filePath });
const optionsShown = (): SaveDialogOptions => showSaveDialog.mock.calls[0]?.at(-1) as SaveDialogOptions;

describe('saveSecretsWithDialog', () => {
  it('writes where the user chose in the dialog, owner-only', async () => {
    const chosen = join(dir, 'picked-by-user.env');
    chooses(chosen);
    const r = await saveSecretsWithDialog(dialog, WIN, { suggestedName: 'thermostat.env', content: CONTENT }, DOCS);
    expect(r).toEqual({ saved: true, path: chosen });
    expect(await readFile(chosen, 'utf8')).toBe(CONTENT);
    if (POSIX) expect((await stat(chosen)).mode & 0o777).toBe(0o600);
  });

  it('suggests the Documents folder plus the suggested name, attached to the window', async () => {
    chooses(join(dir, 'x.env'));
    await saveSecretsWithDialog(dialog, WIN, { suggestedName: 'thermostat.env', content: CONTENT }, DOCS);
    expect(showSaveDialog).toHaveBeenCalledOnce();
    expect(showSaveDialog.mock.calls[0]?.[0]).toBe(WIN);
    expect(optionsShown().defaultPath).toBe(join(DOCS, 'thermostat.env'));
    expect(optionsShown().filters?.[0]).toEqual({ name: 'ENV file', extensions: ['env'] });
  });

  it('shows an unparented dialog when there is no window', async () => {
    chooses(join(dir, 'x.h'));
    await saveSecretsWithDialog(dialog, null, { suggestedName: 'secrets.h', content: CONTENT }, DOCS);
    expect(showSaveDialog.mock.calls[0]).toHaveLength(1);
    expect(optionsShown().defaultPath).toBe(join(DOCS, 'secrets.h'));
  });

  it('replaces an existing file completely and tightens its mode to 0600', async () => {
    const chosen = join(dir, 'old.env');
    await writeFile(chosen, 'x'.repeat(5000), { mode: 0o644 });
    chooses(chosen);
    await saveSecretsWithDialog(dialog, WIN, { suggestedName: 'k.env', content: CONTENT }, DOCS);
    expect(await readFile(chosen, 'utf8')).toBe(CONTENT);
    if (POSIX) expect((await stat(chosen)).mode & 0o777).toBe(0o600);
  });

  it('writes nothing when the dialog is cancelled', async () => {
    showSaveDialog.mockResolvedValue({ canceled: true, filePath: '' });
    expect(await saveSecretsWithDialog(dialog, WIN, { suggestedName: 'k.env', content: CONTENT }, DOCS)).toEqual({
      saved: false,
    });
    showSaveDialog.mockResolvedValue({ canceled: false, filePath: '' });
    expect(await saveSecretsWithDialog(dialog, WIN, { suggestedName: 'k.env', content: CONTENT }, DOCS)).toEqual({
      saved: false,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  const refused: Array<[string, unknown]> = [
    ['a path field', { suggestedName: 'k.env', content: CONTENT, path: '/etc/cron.d/evil' }],
    ['a defaultPath field', { suggestedName: 'k.env', content: CONTENT, defaultPath: '/tmp' }],
    ['a directory field', { suggestedName: 'k.env', content: CONTENT, directory: '/tmp' }],
    ['../ in the name', { suggestedName: '../k.env', content: CONTENT }],
    ['.. as the name', { suggestedName: '..', content: CONTENT }],
    ['. as the name', { suggestedName: '.', content: CONTENT }],
    ['a slash', { suggestedName: 'sub/k.env', content: CONTENT }],
    ['an absolute path', { suggestedName: '/etc/passwd', content: CONTENT }],
    ['a backslash', { suggestedName: '..\\..\\k.env', content: CONTENT }],
    ['a drive letter', { suggestedName: 'C:k.env', content: CONTENT }],
    ['a NUL byte', { suggestedName: 'k.env\u0000.txt', content: CONTENT }],
    ['an empty name', { suggestedName: '', content: CONTENT }],
    ['a blank name', { suggestedName: '   ', content: CONTENT }],
    ['a 201-character name', { suggestedName: `${'a'.repeat(197)}.env`, content: CONTENT }],
    ['a non-string name', { suggestedName: 42, content: CONTENT }],
    ['a missing name', { content: CONTENT }],
    ['non-string content', { suggestedName: 'k.env', content: { secret: 'x' } }],
    ['content over 1 MiB', { suggestedName: 'k.env', content: 'a'.repeat(MAX_CONTENT_BYTES + 1) }],
    ['null', null],
    ['an array', ['k.env', CONTENT]],
    ['a string', '/etc/passwd'],
  ];

  it.each(refused)('refuses a request with %s before any dialog', async (_label, req) => {
    await expect(saveSecretsWithDialog(dialog, WIN, req, DOCS)).rejects.toBeInstanceOf(SaveRequestError);
    expect(showSaveDialog).not.toHaveBeenCalled();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('validateSaveRequest', () => {
  it('accepts ordinary export names', () => {
    for (const name of [
      'thermostat.env',
      'keys.csv',
      'secrets.h',
      'platformio.ini',
      'Key for device 1.json',
      'a'.repeat(200),
    ]) {
      expect(validateSaveRequest({ suggestedName: name, content: '' }).suggestedName).toBe(name);
    }
  });

  it('measures the 1 MiB limit in UTF-8 bytes', () => {
    const exactly = 'é'.repeat(MAX_CONTENT_BYTES / 2);
    expect(() => validateSaveRequest({ suggestedName: 'k.env', content: exactly })).not.toThrow();
    expect(() => validateSaveRequest({ suggestedName: 'k.env', content: `${exactly}a` })).toThrow(
      /content must be at most/,
    );
  });

  it('names the field and the rule', () => {
    expect(() => validateSaveRequest({ suggestedName: 'a/b', content: '' })).toThrow(
      /^suggestedName must be a plain file name/,
    );
    expect(() => validateSaveRequest({ suggestedName: 'k', content: '', path: '/x' })).toThrow(
      /chosen in the dialog \(got path\)/,
    );
  });
});
