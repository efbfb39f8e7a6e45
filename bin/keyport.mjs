#!/usr/bin/env node
// The `keyport` command. It loads the TypeScript sources through tsx, so `npx keyport …` works
// right after `npm install` with no build step to remember.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
