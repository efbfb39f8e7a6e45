// The Messages view's list (docs/design.md §8a): one subscription's messages, appended from the
// `messages` event, bounded, searched by topic and payload text. Pure: unit-tested without a DOM.
import { base64Bytes, payloadText, type MessageDelivery, type TappedMessage } from '../../../src-main/core/message.ts';

/** The renderer keeps at most this many messages per list (the server ring keeps its own bound). */
export const MAX_MESSAGES = 500;
/** Characters of a payload shown in a list row; the row opens to the whole kept payload. */
export const PREVIEW_CHARS = 160;

/** The list after a batch: this subscription's new messages appended, the newest `max` kept. */
export function appendMessages(
  list: readonly TappedMessage[],
  batch: readonly MessageDelivery[],
  subscriptionId: string,
  max = MAX_MESSAGES,
): TappedMessage[] {
  const lastSeq = list[list.length - 1]?.seq ?? -Infinity;
  const fresh = batch.filter((m) => m.seq > lastSeq && m.subscriptions.includes(subscriptionId));
  if (fresh.length === 0) return list as TappedMessage[];
  const next = list.concat(fresh.map(({ subscriptions: _s, ...m }) => m));
  return next.length > max ? next.slice(-max) : next;
}

/** The payload as text for search and preview ('' when binary). */
export function messageText(m: TappedMessage): string {
  return payloadText(base64Bytes(m.payload), m.truncated) ?? '';
}

/** One line of the payload for a list row: whitespace collapsed, cut to PREVIEW_CHARS. */
export function preview(m: TappedMessage): string {
  const t = messageText(m);
  if (t === '' && m.size > 0) return `(binary, ${m.size} bytes)`;
  const one = t.replace(/\s+/g, ' ').trim();
  return one.length > PREVIEW_CHARS ? one.slice(0, PREVIEW_CHARS) + '…' : one;
}

/** Does the message's topic or payload text contain `q` (case-insensitive)? Empty `q` matches all. */
export function messageMatches(m: TappedMessage, q: string): boolean {
  const needle = q.trim().toLowerCase();
  if (needle === '') return true;
  return m.topic.toLowerCase().includes(needle) || messageText(m).toLowerCase().includes(needle);
}
