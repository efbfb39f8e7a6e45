// State checked against a device's declared attributes (docs/design.md §5). Losant: "State data
// cannot be reported against the device unless the values in the state report have first been
// defined as attributes", and each value must conform to its attribute's data type
// (https://docs.losant.com/devices/attributes/). A device with no declared attributes (every
// device made before attributes existed) accepts any attribute: README "Differences from Losant".
import type { DeviceAttribute, StateValue } from './types.ts';

/** "lat,lon" in degrees, as Losant's GPS attributes accept from a device ("42.36,-71.06"). */
const GPS_PATTERN = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/;
/** Standard base64 (RFC 4648, section 4), padded: Losant's blob attributes take a base64 string. */
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function describe(v: StateValue): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'an object';
  return `the ${typeof v} ${String(v)}`;
}

function typeProblem(a: DeviceAttribute, v: StateValue): string | null {
  const got = `attribute "${a.name}" is a ${a.dataType}; got ${describe(v)}`;
  switch (a.dataType) {
    case 'number':
      return typeof v === 'number' ? null : got;
    case 'boolean':
      return typeof v === 'boolean' ? null : got;
    case 'string':
      return typeof v === 'string' ? null : got;
    case 'gps': {
      const m = typeof v === 'string' ? GPS_PATTERN.exec(v) : null;
      if (!m) return `attribute "${a.name}" is a gps; it takes a "lat,lon" string, got ${describe(v)}`;
      const lat = Number(m[1]);
      const lon = Number(m[2]);
      return Math.abs(lat) <= 90 && Math.abs(lon) <= 180
        ? null
        : `attribute "${a.name}" is a gps; latitude must be within ±90 and longitude within ±180 (got ${JSON.stringify(v)})`;
    }
    case 'blob':
      return typeof v === 'string' && BASE64_PATTERN.test(v)
        ? null
        : `attribute "${a.name}" is a blob; it takes a base64 string, got ${describe(v)}`;
  }
}

/** The first problem of a state report's data against the declared attributes, or null. */
export function checkAttributes(
  declared: readonly DeviceAttribute[] | undefined,
  data: Readonly<Record<string, StateValue>>,
): string | null {
  if (!declared || declared.length === 0) return null;
  for (const [name, value] of Object.entries(data)) {
    const a = declared.find((d) => d.name === name);
    if (!a) return `attribute "${name}" is not declared on this device`;
    const problem = typeProblem(a, value);
    if (problem) return problem;
  }
  return null;
}
