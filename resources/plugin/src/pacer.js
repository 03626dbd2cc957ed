// pacer.js - how fast the plugin may talk to Vinted. Requests are spaced at least pace_ms
// apart, never less than the minimum pace (1000 ms; only provision.json can lower it, for
// the tests), plus 0-50 % random jitter, measured from the end of the previous one. After
// a 429 or a challenge page a back-off window starts during which nothing goes to Vinted
// and every call answers the same error with the remaining retry_after. The state is
// kept through `load`/`save` so that a restarted service worker honours it.

/** The least spacing of Vinted requests, whatever a call's pace_ms says. */
export const MIN_PACE_MS = 1000;
/** Back-off after a 429 without Retry-After, in seconds. */
export const DEFAULT_RATE_LIMIT_S = 900;
/** The shortest back-off after a challenge page, in seconds. */
export const MIN_CHALLENGE_S = 1800;

/** The back-off length for `code` given Vinted's Retry-After (seconds or null). */
export function backoffSeconds(code, retryAfter) {
  const given = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null;
  if (code === 'challenge') return Math.max(given ?? 0, MIN_CHALLENGE_S);
  return given ?? DEFAULT_RATE_LIMIT_S;
}

export class Pacer {
  /**
   * @param {object} [deps] now(): ms clock; random(): [0, 1); sleep(ms): Promise;
   *   load(): Promise<state|undefined>; save(state): Promise; minPaceMs: the least spacing
   */
  constructor({ now = () => Date.now(), random = Math.random, sleep, load, save, minPaceMs = MIN_PACE_MS } = {}) {
    this.now = now;
    this.random = random;
    this.sleep = sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.load = load ?? (async () => undefined);
    this.save = save ?? (async () => undefined);
    this.lastAt = 0;
    this.backoff = null; // {code, until, status, message}
    this.loaded = null;
    this.setMinPace(minPaceMs);
  }

  /** Set the least spacing (MIN_PACE_MS unless provision.json said otherwise). */
  setMinPace(ms) {
    this.minPaceMs = Number.isFinite(ms) && ms >= 0 ? ms : MIN_PACE_MS;
  }

  /** Load the saved state once. */
  ready() {
    this.loaded ??= this.load().then((state) => {
      if (state && typeof state === 'object') {
        this.lastAt = Number(state.lastAt) || 0;
        this.backoff = state.backoff && Number.isFinite(state.backoff.until) ? state.backoff : null;
      }
    }).catch(() => undefined);
    return this.loaded;
  }

  persist() {
    this.save({ lastAt: this.lastAt, backoff: this.backoff }).catch(() => undefined);
  }

  /** The running back-off: {code, retry_after (whole seconds left), status, message}, or null. */
  blocked() {
    if (!this.backoff) return null;
    const left = this.backoff.until - this.now();
    if (left <= 0) {
      this.backoff = null;
      this.persist();
      return null;
    }
    const { code, status, message } = this.backoff;
    return { code, status, message, retry_after: Math.ceil(left / 1000) };
  }

  /** Start (or lengthen) a back-off of `seconds` after a `code` answer from Vinted. */
  startBackoff(code, seconds, status, message) {
    const until = this.now() + seconds * 1000;
    if (!this.backoff || this.backoff.until < until) {
      this.backoff = { code, until, status: status ?? null, message: message ?? null };
      this.persist();
    }
  }

  /** The spacing for a call's pace_ms: at least the minimum pace, in ms, before jitter. */
  paceFor(paceMs) {
    return Math.max(this.minPaceMs, Number.isFinite(paceMs) ? paceMs : 0);
  }

  /** The wait before the next request may start, with fresh jitter, in ms. */
  delayFor(paceMs) {
    const gap = this.paceFor(paceMs) * (1 + 0.5 * this.random());
    return Math.max(0, this.lastAt + gap - this.now());
  }

  /**
   * Wait until a request may be sent. Answers false without waiting when that moment
   * would come after `deadline` (ms clock; null = no deadline).
   */
  async wait(paceMs, deadline = null) {
    await this.ready();
    const delay = this.delayFor(paceMs);
    if (deadline !== null && this.now() + delay > deadline) return false;
    if (delay > 0) await this.sleep(delay);
    return true;
  }

  /** Record a request going out or coming back (spacing counts from the last touch). */
  touch() {
    this.lastAt = this.now();
    this.persist();
  }
}
