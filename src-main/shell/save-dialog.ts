// "Save to file…" for a freshly created secret (docs/design.md §3). The renderer supplies only a suggested
// base name and the file's text; WHERE the file goes is chosen by the user in the native save
// dialog, in the main process. A request that tries to name a directory or path is refused.
import { open } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { BrowserWindow, Dialog, SaveDialogOptions } from 'electron';

export const MAX_NAME_LENGTH = 200;
export const MAX_CONTENT_BYTES = 1024 * 1024;

export interface SaveSecretsRequest {
  suggestedName: string;
  content: string;
}

export interface SaveSecretsResult {
  saved: boolean;
  path?: string;
}

/** The renderer's request failed validation; the message names the field and the rule. */
export class SaveRequestError extends Error {
  override name = 'SaveRequestError';
}

const ALLOWED_FIELDS = new Set(['suggestedName', 'content']);
// Path separators, Windows drive/stream separator and reserved characters, control characters.
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const BAD_NAME_CHARS = /[/\\:<>"|?*\u0000-\u001f\u007f]/;

export function validateSaveRequest(req: unknown): SaveSecretsRequest {
  if (typeof req !== 'object' || req === null || Array.isArray(req))
    throw new SaveRequestError('request must be an object with suggestedName and content');
  const extra = Object.keys(req).filter((k) => !ALLOWED_FIELDS.has(k));
  if (extra.length)
    throw new SaveRequestError(
      `request may only have suggestedName and content; the save location is chosen in the dialog (got ${extra.join(', ')})`,
    );
  const { suggestedName, content } = req as Record<string, unknown>;
  if (typeof suggestedName !== 'string' || suggestedName.trim() === '' || suggestedName.length > MAX_NAME_LENGTH) {
    throw new SaveRequestError(`suggestedName must be a file name of 1-${MAX_NAME_LENGTH} characters`);
  }
  if (BAD_NAME_CHARS.test(suggestedName) || suggestedName.includes('..') || suggestedName === '.') {
    throw new SaveRequestError(
      'suggestedName must be a plain file name: no path separators, "..", ":", reserved or control characters',
    );
  }
  if (typeof content !== 'string') throw new SaveRequestError('content must be a string');
  if (Buffer.byteLength(content, 'utf8') > MAX_CONTENT_BYTES)
    throw new SaveRequestError(`content must be at most ${MAX_CONTENT_BYTES} bytes`);
  return { suggestedName, content };
}

function filtersFor(name: string): SaveDialogOptions['filters'] {
  const ext = extname(name).slice(1);
  const all = { name: 'All files', extensions: ['*'] };
  return ext ? [{ name: `${ext.toUpperCase()} file`, extensions: [ext] }, all] : [all];
}

/** Writes text readable by the owner only. An existing file is truncated and re-moded BEFORE the secret goes in. */
export async function writeOwnerOnly(path: string, content: string): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.chmod(0o600); // the mode argument only applies when the file is created
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function saveSecretsWithDialog(
  dialog: Pick<Dialog, 'showSaveDialog'>,
  win: BrowserWindow | null,
  req: unknown,
  documentsDir: string,
): Promise<SaveSecretsResult> {
  const { suggestedName, content } = validateSaveRequest(req);
  const options: SaveDialogOptions = {
    title: 'Save access key and secret',
    buttonLabel: 'Save',
    defaultPath: join(documentsDir, suggestedName),
    filters: filtersFor(suggestedName),
    properties: ['createDirectory', 'showOverwriteConfirmation'],
  };
  const choice = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
  if (choice.canceled || !choice.filePath) return { saved: false };
  await writeOwnerOnly(choice.filePath, content);
  return { saved: true, path: choice.filePath };
}
