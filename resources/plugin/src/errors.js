// errors.js - the error codes a call can answer with (docs/bridge-protocol.md, "Error
// codes") and ActionError, the one exception type the actions throw. Pure: no chrome.*.

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

  /** The `error` object of a result frame. */
  toWire() {
    const wire = { code: this.code, message: this.message };
    if (Number.isInteger(this.status)) wire.status = this.status;
    if (Number.isFinite(this.retry_after)) wire.retry_after = this.retry_after;
    if (this.fields && typeof this.fields === 'object') wire.fields = this.fields;
    return wire;
  }
}

/** Shorthand for a payload the plugin cannot read. */
export function badRequest(message) {
  return new ActionError(ERR.BAD_REQUEST, message);
}
