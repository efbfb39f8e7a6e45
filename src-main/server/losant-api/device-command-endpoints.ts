// Device commands in the Losant-compatible API (losant-rest device.sendCommand / device.getCommand):
//   POST /applications/{appId}/devices/{deviceId}/command  {name, payload?, time?} → {success:true},
//        published on losant/{deviceId}/command as the platform (Losant's schema: deviceCommand)
//   GET  /applications/{appId}/devices/{deviceId}/command  recent commands (limit default 1, since)
// The admin token is the platform. A device token may do over HTTP what its key allows over MQTT
// (docs/design.md §5): send a command to a device in its key's scope, read commands of a device it could
// subscribe to. Both checks go through deviceCaller (access-control re-check at every use).
import { sendJson } from '../http-util.ts';
import { bodyOf, notFound, rejectUnknownFields, serviceCall, validation, type RecordEndpoint } from './context.ts';
import { authorizeDevicePublish, authorizeDeviceRead } from './device-endpoints.ts';
import { recordDecision as record } from './device-origin.ts';
import { parseHistoryParams, selectHistory } from './history-params.ts';
import { commandToLosant } from './shapes.ts';
import { isPlainObject } from '../../core/plain-object.ts';

/** Losant's deviceCommand schema: additionalProperties false. */
const COMMAND_FIELDS = ['name', 'payload', 'time'] as const;

export const postCommand: RecordEndpoint = async (ctx, req, res, _url, appId, deviceId) => {
  const { origin, who, allowed } = await authorizeDevicePublish(ctx, req, appId, deviceId, 'command');
  const body = bodyOf(req);
  if (!isPlainObject(body)) throw validation('deviceCommand: must be a JSON object {name, payload?, time?}');
  rejectUnknownFields(body, COMMAND_FIELDS, 'deviceCommand');
  if (body.name === undefined) throw validation('deviceCommand.name: is required');
  // sendCommand validates (name 1-255 characters, time) and publishes as the platform.
  await serviceCall(() => ctx.ports.telemetry.sendCommand(deviceId, body), 'Device');
  record(ctx, origin, 'publish', allowed, who);
  void sendJson(res, 200, { success: true });
};

export const getCommands: RecordEndpoint = async (ctx, req, res, url, appId, deviceId) => {
  await authorizeDeviceRead(ctx, req, appId, deviceId, 'command');
  if (!ctx.ports.auth.device(deviceId)) throw notFound('Device');
  const p = parseHistoryParams(url.searchParams);
  void sendJson(res, 200, selectHistory(ctx.ports.telemetry.commands(deviceId), p).map(commandToLosant));
};
