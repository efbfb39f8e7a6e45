// The decision row the user asked to replay, handed from a decision table to the playground view.
import type { DecisionEvent } from '../../../src-main/core/decision-event.ts';
import { go } from '../../lib/router.svelte.ts';

export const replay = $state<{ event: DecisionEvent | null }>({ event: null });

/** Opens the playground with this attempt's inputs (the view takes the event and clears it). */
export function replayInPlayground(e: DecisionEvent): void {
  replay.event = e;
  go('playground');
}
