// Transport state shown in the header (a banner when the server is gone).
import type { BridgeState } from './ws-bridge.ts';

export const connection = $state<{
  state: BridgeState;
  mode: 'desktop' | 'headless';
  /** Why the state is 'unauthorized': no token in the link, or the server refused the one given. */
  token?: 'missing' | 'refused';
}>({
  state: 'connecting',
  mode: 'headless',
});
