// The publish/deliver rate over the last minute, kept client-side from the `broker.status` events
// (one a second). Module-level so the history survives switching views.
import { api } from '../../lib/api.ts';

export const RATE_POINTS = 60;

export interface RateSample {
  published: number;
  delivered: number;
}

export const rateHistory = $state<{ samples: RateSample[] }>({ samples: [] });

api.on('broker.status', (s) => {
  const next = rateHistory.samples.slice(-(RATE_POINTS - 1));
  next.push({ published: s.rate.published, delivered: s.rate.delivered });
  rateHistory.samples = next;
});
