// The live decision list: batches from the `decisions` event appended to what decisions.list gave.
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';

export const MAX_DECISIONS = 2000;

/**
 * The list after a batch: the batch's new decisions appended (one already returned by the first
 * decisions.list can arrive again in a batch; seq only grows), the newest MAX_DECISIONS kept.
 * One new array per batch, so the view redraws once per batch, not once per decision.
 */
export function appendDecisions(list: DecisionEvent[], batch: readonly DecisionEvent[]): DecisionEvent[] {
  const lastSeq = list[list.length - 1]?.seq ?? -Infinity;
  const fresh = batch.filter((d) => d.seq > lastSeq);
  if (fresh.length === 0) return list;
  const next = list.concat(fresh);
  return next.length > MAX_DECISIONS ? next.slice(-MAX_DECISIONS) : next;
}
