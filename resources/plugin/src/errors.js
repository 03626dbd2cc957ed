// errors.js - the error codes a call can answer with (docs/bridge-protocol.md, "Error
// codes"), ActionError, the one exception type the actions throw, and errorWire, the one
// place that builds a result frame's `error` object. Pure: no chrome.*.

import { isObject } from './util.js';

export const ERR = Object.freeze({
  NOT_LOGGED_IN: 'not_logged_in',
  RATE_LIMITED: 'rate_limited',
  CHALLENGE: 'challenge',
  NOT_FOUND: 'not_found',
  REJECTED: 'rejected',
  SERVER_ERROR: 'server_error',
  NETWORK: 'network',
  NO_TAB: 'no_tab',
  TIMEOUT: 'timeout',
  BAD_REQUEST: 'bad_request',
  UNKNOWN_ACTION: 'unknown_action',
});

/** A call that failed with one of the protocol's error codes. */
export class ActionError extends Error {
  /**
   * @param {string} code one of ERR
   * @param {string} message words for the seller
   * @param {{status?: number, retry_after?: number, fields?: object}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'ActionError';
    this.code = code;
    this.status = extra.status;
    this.retry_after = extra.retry_after;
    this.fields = extra.fields;
  }
}

/**
 * The `error` object of a result frame from an ActionError or any
 * {code, message, status?, retry_after?, fields?}: code and message always, the others
 * only when they hold a whole-number status, a number of seconds or a field map.
 */
export function errorWire(error) {
  const wire = { code: String(error.code), message: String(error.message || error.code) };
  if (Number.isInteger(error.status)) wire.status = error.status;
  if (Number.isFinite(error.retry_after)) wire.retry_after = error.retry_after;
  if (isObject(error.fields)) wire.fields = error.fields;
  return wire;
}

/** Shorthand for a payload the plugin cannot read. */
export function badRequest(message) {
  return new ActionError(ERR.BAD_REQUEST, message);
}
