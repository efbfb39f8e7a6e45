import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The Electron shell (main + preload) stays thin; everything else runs under plain Node too.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { index: resolve('src-main/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { preload: resolve('src-main/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    // `npm start` (scripts/start.mjs) picks a free port. strictPort because electron-vite hands
    // Electron the configured port, not the one Vite would fall back to: a busy port must fail,
    // never open a window on whatever else is listening there.
    server: { port: Number(process.env.KEYPORT_RENDERER_PORT) || 5173, strictPort: true },
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve('src-renderer/index.html') } },
    },
    plugins: [svelte({ configFile: resolve('svelte.config.js') })],
  },
});
