// Small pure helpers shared by the device views: class explanations, tag cleanup, time text.
import type { AttributeDataType, DeviceAttribute, DeviceClass, Tag } from '../../../src-main/core/types.ts';

/** Same rule as the backend (core/validation.ts), repeated here because that module pulls in node:crypto. */
export const TAG_KEY_PATTERN = /^[0-9a-zA-Z_-]{1,255}$/;

export const CLASS_INFO: Record<DeviceClass, { label: string; explain: string }> = {
  standalone: { label: 'Standalone', explain: 'Connects to the broker itself and reports only its own state.' },
  gateway: { label: 'Gateway', explain: 'Connects itself and may also report state for its peripherals.' },
  peripheral: { label: 'Peripheral', explain: 'Has no connection of its own; a gateway reports for it.' },
  floating: {
    label: 'Floating',
    explain: 'Connects itself; in Losant it may move between gateways. Reports its own state.',
  },
  edgeCompute: {
    label: 'Edge Compute',
    explain: 'Runs an edge agent; like a gateway, it may also report state for its peripherals.',
  },
  embedded: { label: 'Embedded', explain: 'Runs the embedded edge agent; reports only its own state.' },
  system: { label: 'System', explain: 'A logical device for data that does not come from hardware.' },
};

export const DATA_TYPE_INFO: Record<AttributeDataType, string> = {
  number: 'Number',
  string: 'String',
  boolean: 'Boolean',
  gps: 'GPS ("lat,lon")',
  blob: 'Blob (base64)',
};

/** Drop rows left with no name; the server names any other problem. */
export function cleanAttributes(attrs: readonly DeviceAttribute[]): DeviceAttribute[] {
  return attrs.filter((a) => a.name.trim() !== '').map((a) => ({ name: a.name.trim(), dataType: a.dataType }));
}

export function sameAttributes(a: readonly DeviceAttribute[], b: readonly DeviceAttribute[]): boolean {
  return a.length === b.length && a.every((x, i) => x.name === b[i]?.name && x.dataType === b[i]?.dataType);
}

/** Drop rows the user left completely empty; half-filled rows go to the server, which names the problem. */
export function cleanTags(tags: readonly Tag[]): Tag[] {
  return tags
    .filter((t) => t.key.trim() !== '' || t.value.trim() !== '')
    .map((t) => ({ key: t.key.trim(), value: t.value }));
}

export function sameTags(a: readonly Tag[], b: readonly Tag[]): boolean {
  return a.length === b.length && a.every((t, i) => t.key === b[i]?.key && t.value === b[i]?.value);
}

export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id;
}

export function relativeTime(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '—';
  const s = Math.round((now - t) / 1000);
  if (s < -60) return 'in the future'; // small negatives are clock skew or a clock not yet ticked
  if (s < 10) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
