// vitest global setup: the spawned smoke tests run the real bin, which runs the built CLI in
// out/cli. Build it first when it is missing or older than the sources, so they test the bundle
// (and do not fall back to tsx with a note on stderr). About 0.3-0.7 s when a build is needed.
import { bundleState } from '../../bin/cli-bundle.mjs';
import { buildCli } from '../../scripts/build-cli.mjs';
import { REPO } from './cli.ts';

export default async function setup(): Promise<void> {
  const state = bundleState(REPO);
  if (state.state === 'missing' || state.state === 'stale') await buildCli(REPO);
}
