// The built UI (out/renderer) that `serve` and `simulate` serve. This module sits two levels below
// the repository both as source (src-main/cli/) and built (out/cli/, where esbuild puts every
// chunk side by side), so the same relative path works in both.
import { resolve } from 'node:path';

export function uiDir(): string {
  return resolve(import.meta.dirname, '../../out/renderer');
}
