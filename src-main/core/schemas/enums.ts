// The closed vocabularies of Keyport's records, shared by the schemas and core/types.ts (which
// re-exports them). Field values follow Losant's REST schemas (docs/design.md §2).

/**
 * Losant's device classes ("Choosing a Device Type", https://docs.losant.com/devices/overview/):
 * gateways and edgeCompute devices may report state for peripherals (core/topic-access.ts);
 * embedded devices report only for themselves (https://docs.losant.com/devices/embedded/).
 */
export const DEVICE_CLASSES = [
  'standalone',
  'gateway',
  'peripheral',
  'floating',
  'edgeCompute',
  'embedded',
  'system',
] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

/** Classes whose devices may report state for peripherals (Losant: gateway and Edge Compute). */
export const REPORTING_CLASSES: readonly DeviceClass[] = ['gateway', 'edgeCompute'];

/** Losant's attribute data types (https://docs.losant.com/devices/attributes/, "Attribute Data Types"). */
export const ATTRIBUTE_DATA_TYPES = ['number', 'string', 'boolean', 'gps', 'blob'] as const;
export type AttributeDataType = (typeof ATTRIBUTE_DATA_TYPES)[number];

export const KEY_STATUSES = ['active', 'inactive'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];
export const ADDRESS_FILTER_TYPES = ['all', 'whitelist', 'blacklist'] as const;
export type AddressFilterType = (typeof ADDRESS_FILTER_TYPES)[number];
export const TOPIC_FILTER_TYPES = ['none', 'all', 'whitelist', 'blacklist'] as const;
export type TopicFilterType = (typeof TOPIC_FILTER_TYPES)[number];
export const CREATED_VIA = ['keys-page', 'device-page', 'simulator', 'api', 'cli'] as const;
export type CreatedVia = (typeof CREATED_VIA)[number];
export const TRANSPORTS = ['tcp', 'ws', 'tls', 'http'] as const;
export type Transport = (typeof TRANSPORTS)[number];
