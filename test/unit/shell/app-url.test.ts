import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createAppUrl } from '../../../src-main/shell/app-url.ts';

const INDEX = join('/opt', 'Keyport', 'resources', 'app.asar', 'out', 'renderer', 'index.html');
const APP = pathToFileURL(INDEX).href;

describe('createAppUrl (built renderer)', () => {
  const app = createAppUrl({ indexHtml: INDEX });

  it('loads the built index.html', () => {
    expect(app.entry).toEqual({ kind: 'file', path: INDEX });
  });

  it('accepts the app page with any #route or query', () => {
    expect(app.isAppUrl(APP)).toBe(true);
    expect(app.isAppUrl(`${APP}#/keys/abc`)).toBe(true);
    expect(app.isAppUrl(`${APP}?x=1#/`)).toBe(true);
  });

  it('refuses every other URL', () => {
    for (const url of [
      'https://evil.example/',
      'http://127.0.0.1:8484/',
      pathToFileURL(join('/opt', 'Keyport', 'resources', 'app.asar', 'out', 'renderer', 'other.html')).href,
      pathToFileURL('/etc/passwd').href,
      'about:blank',
      'data:text/html,<h1>x</h1>',
      'devtools://devtools/bundled/inspector.html',
      'not a url',
      '',
    ]) {
      expect(app.isAppUrl(url), url).toBe(false);
    }
  });

  it('checks frames: null (destroyed) and foreign frames are not the app', () => {
    expect(app.isAppFrame({ url: APP })).toBe(true);
    expect(app.isAppFrame(null)).toBe(false);
    expect(app.isAppFrame({ url: 'https://evil.example/' })).toBe(false);
  });

  it('works when its methods are passed around as callbacks', () => {
    const { isAppUrl, isAppFrame } = app;
    expect(isAppUrl(APP)).toBe(true);
    expect(isAppFrame({ url: APP })).toBe(true);
  });
});

describe('createAppUrl (electron-vite dev server)', () => {
  const app = createAppUrl({ indexHtml: INDEX, devServerUrl: 'http://localhost:5173' });

  it('loads the dev server and trusts only its origin', () => {
    expect(app.entry).toEqual({ kind: 'url', url: 'http://localhost:5173/' });
    expect(app.isAppUrl('http://localhost:5173/#/devices')).toBe(true);
    expect(app.isAppUrl('http://localhost:5174/')).toBe(false);
    expect(app.isAppUrl('https://localhost:5173/')).toBe(false);
    expect(app.isAppUrl('https://evil.example/')).toBe(false);
    expect(app.isAppUrl(APP)).toBe(false);
  });

  it('refuses a dev server URL that is not http(s)', () => {
    expect(() => createAppUrl({ indexHtml: INDEX, devServerUrl: 'file:///tmp/x.html' })).toThrow(/http\(s\)/);
  });
});
