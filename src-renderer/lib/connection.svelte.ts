// Transport state shown in the header (a banner when the server is gone).
import type { BridgeState } from './ws-bridge.ts';

export const connection = $state<{ state: BridgeState; mode: 'desktop' | 'headless' }>({
  state: 'connecting',
  mode: 'headless',
});
