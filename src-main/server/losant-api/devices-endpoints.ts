// Device management in Losant's shapes (losant-rest devices / device):
//   GET|POST /applications/{appId}/devices
//   GET|PATCH|DELETE /applications/{appId}/devices/{deviceId}
// Losant's `attributes` (declared state attributes, {name, dataType}) are stored and state is checked
// against them (core/attribute-values.ts); an attribute's optional Losant fields (description,
// attributeTags, contentType) are dropped. Other Losant-only fields (parentId, systemInterval, …) get a 400.
import { DEVICE_CLASSES, type Device } from '../../core/types.ts';
import { sendJson } from '../http-util.ts';
import {
  bodyOf,
  requireManagedId,
  requireManager,
  serviceCall,
  validation,
  type CollectionEndpoint,
  type RecordEndpoint,
} from './context.ts';
import { parseDeviceQuery } from '../../core/device-query.ts';
import { listPage, parseListRequest, type ListSpec } from './listing.ts';
import { readNestedQuery, stringListParam, tagFilterParam } from './query-params.ts';
import { connectionRank, deviceToLosant } from './shapes.ts';
import { isPlainObject } from '../../core/plain-object.ts';

export const DEVICE_LIST: ListSpec<Device> = {
  sortFields: {
    name: (d) => d.name,
    id: (d) => d.id,
    creationDate: (d) => d.creationDate,
    lastUpdated: (d) => d.lastUpdated,
    connectionStatus: (d) => connectionRank(d),
  },
  defaultSortField: 'name',
  defaultSortDirection: 'asc',
  filterFields: { name: (d) => d.name, description: (d) => d.description },
  id: (d) => d.id,
};

const truthy = (v: string | null): boolean => v !== null && v !== '' && v !== 'false' && v !== '0';

export const listDevices: CollectionEndpoint = async (ctx, req, res, url, appId) => {
  await requireManager(ctx, req, appId);
  const { query: rawQuery, params } = parseListRequest(url, DEVICE_LIST);
  let devices = ctx.ports.devices.list();
  const echo: Record<string, unknown> = {};
  if (rawQuery !== null) {
    const parsed = parseDeviceQuery(rawQuery);
    if (!parsed.ok) throw validation(parsed.error);
    devices = devices.filter(parsed.test);
    echo.query = JSON.parse(rawQuery) as unknown;
  } else {
    // deviceClass and tagFilter arrive qs-encoded (query-params.ts).
    const nested = readNestedQuery(url);
    const classes = stringListParam(nested, 'deviceClass');
    if (classes) {
      for (const c of classes) {
        if (!(DEVICE_CLASSES as readonly string[]).includes(c))
          throw validation(`deviceClass: ${JSON.stringify(c)} is not a device class (${DEVICE_CLASSES.join(', ')})`);
      }
      devices = devices.filter((d) => classes.includes(d.deviceClass));
      echo.deviceClass = classes.length === 1 ? classes[0] : classes;
    }
    const tags = tagFilterParam(nested);
    if (tags) {
      devices = devices.filter((d) =>
        tags.every((t) =>
          d.tags.some(
            (dt) => (t.key === undefined || dt.key === t.key) && (t.value === undefined || dt.value === t.value),
          ),
        ),
      );
      echo.tagFilter = tags;
    }
  }
  const exclude = truthy(url.searchParams.get('excludeConnectionInfo'));
  const appIdNow = ctx.ports.applicationId;
  const page = listPage(devices, params, DEVICE_LIST, (d) =>
    deviceToLosant(d, appIdNow, { excludeConnectionInfo: exclude }),
  );
  void sendJson(res, 200, { ...page, applicationId: appIdNow, ...echo });
};

/** Losant's optional attribute fields Keyport does not keep (its Device schema has name and dataType). */
const DROPPED_ATTRIBUTE_FIELDS = new Set(['description', 'attributeTags', 'contentType']);

/** Drops the attribute fields Keyport does not keep; the service's schema checks the rest. */
function deviceInput(body: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(body)) throw validation(`body: the ${what} must be a JSON object`);
  if (!Array.isArray(body.attributes)) return body;
  const attributes = body.attributes.map((a: unknown) =>
    isPlainObject(a) ? Object.fromEntries(Object.entries(a).filter(([k]) => !DROPPED_ATTRIBUTE_FIELDS.has(k))) : a,
  );
  return { ...body, attributes };
}

export const createDevice: CollectionEndpoint = async (ctx, req, res, _url, appId) => {
  await requireManager(ctx, req, appId);
  const input = deviceInput(bodyOf(req), 'device');
  const device = await serviceCall(() => ctx.ports.devices.create(input), 'Device');
  void sendJson(res, 201, deviceToLosant(device, ctx.ports.applicationId));
};

export const getDevice: RecordEndpoint = async (ctx, req, res, url, appId, deviceId) => {
  await requireManagedId(ctx, req, appId, deviceId, 'Device');
  const device = await serviceCall(() => ctx.ports.devices.get(deviceId), 'Device');
  void sendJson(
    res,
    200,
    deviceToLosant(device, ctx.ports.applicationId, {
      excludeConnectionInfo: truthy(url.searchParams.get('excludeConnectionInfo')),
    }),
  );
};

export const patchDevice: RecordEndpoint = async (ctx, req, res, _url, appId, deviceId) => {
  await requireManagedId(ctx, req, appId, deviceId, 'Device');
  await serviceCall(() => ctx.ports.devices.get(deviceId), 'Device');
  const input = deviceInput(bodyOf(req), 'device update');
  const device = await serviceCall(() => ctx.ports.devices.update(deviceId, input), 'Device');
  void sendJson(res, 200, deviceToLosant(device, ctx.ports.applicationId));
};

export const deleteDevice: RecordEndpoint = async (ctx, req, res, _url, appId, deviceId) => {
  await requireManagedId(ctx, req, appId, deviceId, 'Device');
  await serviceCall(() => ctx.ports.devices.remove(deviceId), 'Device');
  void sendJson(res, 200, { success: true });
};
