// protocol.js - the bridge protocol's frames (docs/bridge-protocol.md, version 1):
// builders for what the plugin sends and a validating parser for what the program sends.
// PURE functions only: no chrome.*, no WebSocket, no clock.

import { errorWire } from './errors.js';
import { isObject, optionalText } from './util.js';

export const PROTOCOL_VERSION = 1;

/** The program's close codes the plugin acts on (the others mean: reconnect later). */
export const CLOSE = Object.freeze({
  BAD_VERSION: 4400,
  BAD_TOKEN: 4401,
  REPLACED: 4409,
});

/** The time budget of a call that does not say (the program always does). */
export const DEFAULT_TIMEOUT_MS = 120000;

const frame = (fields) => JSON.stringify({ v: PROTOCOL_VERSION, ...fields });

/** A VintedSession in its wire form, or null. */
export function sessionWire(vinted) {
  if (!isObject(vinted)) return null;
  const loggedIn = vinted.logged_in === true;
  return {
    logged_in: loggedIn,
    user_id: loggedIn ? optionalText(vinted.user_id) : null,
    login: loggedIn ? optionalText(vinted.login) : null,
    domain: optionalText(vinted.domain),
  };
}

/** The first frame: the pairing token and who we are. */
export function buildHello({ token, pluginVersion, browser, vinted = null }) {
  return frame({
    type: 'hello',
    token: String(token ?? ''),
    plugin_version: String(pluginVersion),
    browser: String(browser),
    vinted: sessionWire(vinted),
  });
}

/** A successful answer to call `id`. */
export function buildResult(id, data) {
  return frame({ type: 'result', id: String(id), ok: true, data: data ?? {} });
}

/**
 * A failed answer to call `id`; `error` = an ActionError or
 * {code, message, status?, retry_after?, fields?} (see errorWire).
 */
export function buildErrorResult(id, error) {
  return frame({ type: 'result', id: String(id), ok: false, error: errorWire(error) });
}

/** The Vinted login as the plugin sees it (never null on the wire). */
export function buildStatus(vinted) {
  const wire = sessionWire(vinted);
  if (wire === null) throw new TypeError('a status frame needs a VintedSession');
  return frame({ type: 'status', vinted: wire });
}

/** Keep-alive traffic; the program answers pong. */
export function buildPing() {
  return frame({ type: 'ping' });
}

const fail = (reason, extra = {}) => ({ ok: false, reason, ...extra });

function parseCall(obj) {
  if (typeof obj.id !== 'string' || obj.id === '') return fail('call without an id');
  const id = obj.id;
  if (typeof obj.action !== 'string' || obj.action === '') return fail('call without an action', { id });
  let payload = obj.payload;
  if (payload === undefined || payload === null) payload = {};
  if (!isObject(payload)) return fail('call payload must be an object', { id });
  let timeoutMs = obj.timeout_ms;
  if (timeoutMs === undefined || timeoutMs === null) timeoutMs = DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return fail('call timeout_ms must be a positive number', { id });
  }
  let paceMs = obj.pace_ms;
  if (paceMs === undefined || paceMs === null) paceMs = 0;
  if (typeof paceMs !== 'number' || !Number.isFinite(paceMs) || paceMs < 0) {
    return fail('call pace_ms must be a number >= 0', { id });
  }
  return { ok: true, frame: { type: 'call', id, action: obj.action, payload, timeout_ms: timeoutMs, pace_ms: paceMs } };
}

function parseWelcome(obj) {
  if (typeof obj.session !== 'string') return fail('welcome without a session');
  if (obj.server_version !== undefined && typeof obj.server_version !== 'string') {
    return fail('welcome server_version must be a string');
  }
  const maxFrame = obj.max_frame;
  if (maxFrame !== undefined && !(Number.isInteger(maxFrame) && maxFrame > 0)) {
    return fail('welcome max_frame must be a positive integer');
  }
  return {
    ok: true,
    frame: { type: 'welcome', session: obj.session, server_version: obj.server_version ?? null, max_frame: maxFrame ?? null },
  };
}

function parseError(obj) {
  if (typeof obj.code !== 'string') return fail('error frame without a code');
  if (obj.message !== undefined && typeof obj.message !== 'string') return fail('error message must be a string');
  return { ok: true, frame: { type: 'error', code: obj.code, message: obj.message ?? '' } };
}

/**
 * One frame from the program, checked field by field: {ok: true, frame} or
 * {ok: false, reason} (plus `id` when a call was unreadable but named its id, so that it
 * can still be answered with bad_request). Unknown fields are ignored.
 */
export function parseFrame(text) {
  if (typeof text !== 'string') return fail('binary frames are not part of the protocol');
  let obj;
  try {
    obj = JSON.parse(text);
  } catch {
    return fail('frame is not JSON');
  }
  if (!isObject(obj)) return fail('frame is not a JSON object');
  if (typeof obj.v !== 'number' || !Number.isInteger(obj.v)) return fail('frame has no protocol version v');
  if (obj.v !== PROTOCOL_VERSION) return fail(`protocol version ${obj.v} is not ${PROTOCOL_VERSION}`);
  if (typeof obj.type !== 'string') return fail('frame has no type');
  switch (obj.type) {
    case 'welcome':
      return parseWelcome(obj);
    case 'call':
      return parseCall(obj);
    case 'pong':
      return { ok: true, frame: { type: 'pong' } };
    case 'error':
      return parseError(obj);
    default:
      return fail(`unknown frame type ${JSON.stringify(obj.type)}`);
  }
}
