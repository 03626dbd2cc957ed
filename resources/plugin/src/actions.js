// actions.js - the call actions (session_status, upload_photo, create_item, update_item,
// delete_item, get_item, wardrobe, sold_orders, inbox, send_message): payload checks,
// one Vinted request at a time (a single lane shared with the login probes), pacing and
// back-off through the Pacer, the call's time budget, and one retry for reads that did
// not reach Vinted. Writes are never retried here.

import { ActionError, ERR, badRequest, errorWire } from './errors.js';
import { isObject } from './util.js';
import { answers, errorFor, normalizeConversation, normalizeItem, normalizeOrder, paged, readJson, requests, sessionFrom } from './vinted/endpoints.js';
import { TAB_LOAD_MS, runInTab, vintedTab } from './vinted/tabs.js';

/** The plugin gives up this long before the program's own timeout. */
export const GRACE_MS = 1000;
/** Spacing of the background login probes. */
export const PROBE_PACE_MS = 2000;
const PROBE_BUDGET_MS = 20000;
/** A wardrobe call reuses a Vinted login read this recently (no users/current per page). */
export const SESSION_REUSE_MS = 60000;

function pageArgs(payload, defaultPerPage) {
  const page = payload.page ?? 1;
  const perPage = payload.per_page ?? defaultPerPage;
  if (!Number.isInteger(page) || page < 1) throw badRequest('page must be a whole number from 1');
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 200) throw badRequest('per_page must be a whole number from 1 to 200');
  return { page, perPage };
}

function itemArgs(payload, needsId) {
  if (needsId && (payload.item_id === undefined || payload.item_id === null)) throw badRequest('item_id is required');
  if (!isObject(payload.item)) throw badRequest('item must be an object of item fields');
  return payload;
}

function photoArgs(payload, newUuid) {
  const data = typeof payload.data_base64 === 'string' ? payload.data_base64.replace(/\s+/g, '') : '';
  if (!data || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw badRequest('data_base64 must be the photo in base64');
  const contentType = payload.content_type ?? 'image/jpeg';
  if (typeof contentType !== 'string' || !/^image\/[\w.+-]+$/.test(contentType)) throw badRequest('content_type must be an image type');
  const filename = typeof payload.filename === 'string' && payload.filename.trim() ? payload.filename.trim() : 'photo.jpg';
  const tempUuid = typeof payload.temp_uuid === 'string' && payload.temp_uuid ? payload.temp_uuid : newUuid();
  return { filename, contentType, dataBase64: data, tempUuid };
}

function textArg(payload, key) {
  const value = payload[key];
  if (typeof value !== 'string' || !value.trim()) throw badRequest(`${key} is required`);
  return value;
}

/**
 * Every action: `prepare(payload)` checks the payload and builds what `run(ctx, args)`
 * needs (bad_request when it cannot); `run` talks to Vinted through ctx.request.
 */
function actionTable(newUuid) {
  return {
    session_status: { prepare: () => null, run: (ctx) => ctx.session() },
    upload_photo: {
      prepare: (p) => requests.uploadPhoto(photoArgs(p, newUuid)),
      run: async (ctx, req) => answers.photo(await ctx.request(req, { write: true })),
    },
    create_item: {
      prepare: (p) => requests.createItem(itemArgs(p, false).item, typeof p.temp_uuid === 'string' && p.temp_uuid ? p.temp_uuid : newUuid()),
      run: async (ctx, req) => answers.item(await ctx.request(req, { write: true }), ctx.origin),
    },
    update_item: {
      prepare: (p) => requests.updateItem(itemArgs(p, true).item_id, p.item),
      run: async (ctx, req) => answers.item(await ctx.request(req, { write: true }), ctx.origin),
    },
    delete_item: {
      prepare: (p) => requests.deleteItem(p.item_id),
      run: async (ctx, req) => {
        await ctx.request(req, { write: true, parse: false });
        return { deleted: true };
      },
    },
    get_item: {
      prepare: (p) => requests.getItem(p.item_id),
      run: async (ctx, req) => answers.item(await ctx.request(req), ctx.origin),
    },
    wardrobe: {
      prepare: (p) => pageArgs(p, 96),
      run: async (ctx, { page, perPage }) => {
        const session = ctx.knownSession() ?? await ctx.session();
        if (!session.logged_in) throw new ActionError(ERR.NOT_LOGGED_IN, 'Log in to Vinted in this browser');
        const json = await ctx.request(requests.wardrobe(session.user_id, page, perPage));
        const { entries, ...pages } = paged(json, 'items', page, (item) => normalizeItem(item, ctx.origin));
        return { items: entries, ...pages };
      },
    },
    sold_orders: {
      prepare: (p) => pageArgs(p, 20),
      run: async (ctx, { page, perPage }) => {
        const { entries, ...pages } = paged(await ctx.request(requests.soldOrders(page, perPage)), 'my_orders', page, normalizeOrder);
        return { orders: entries, ...pages };
      },
    },
    inbox: {
      prepare: (p) => pageArgs(p, 20),
      run: async (ctx, { page, perPage }) => {
        const { entries, ...pages } = paged(await ctx.request(requests.inbox(page, perPage)), 'conversations', page, normalizeConversation);
        return { conversations: entries, ...pages };
      },
    },
    send_message: {
      prepare: (p) => requests.sendMessage(p.conversation_id, textArg(p, 'body')),
      run: async (ctx, req) => answers.reply(await ctx.request(req, { write: true })),
    },
  };
}

const failure = (error) => ({
  ok: false,
  error: errorWire(error instanceof ActionError ? error : { code: ERR.SERVER_ERROR, message: `The plugin failed: ${error?.message ?? error}` }),
});
const timeoutError = () => new ActionError(ERR.TIMEOUT, 'The plugin ran out of time for this action');

export class Actions {
  /**
   * @param {{pacer, loadSettings: () => Promise<object>, onSession?: (s) => void,
   *   newUuid?: () => string, log?: (...a) => void}} deps
   */
  constructor({ pacer, loadSettings, onSession = () => {}, newUuid = () => crypto.randomUUID() }) {
    this.pacer = pacer;
    this.loadSettings = loadSettings;
    this.reportSession = onSession;
    this.table = actionTable(newUuid);
    this.lane = Promise.resolve();
    this.known = null; // {origin, session, at}: the last Vinted login read
  }

  /** A Vinted login was read on `origin` (users/current, or a 401 answer). */
  noteSession(origin, session) {
    this.known = { origin, session, at: Date.now() };
    this.reportSession(session);
  }

  /** The login read on `origin` within SESSION_REUSE_MS when it was logged in; else null. */
  recentSession(origin) {
    const known = this.known;
    if (!known || known.origin !== origin || !known.session.logged_in) return null;
    const age = Date.now() - known.at;
    return age >= 0 && age < SESSION_REUSE_MS ? known.session : null;
  }

  /** Run `fn` when every earlier lane task has settled (one Vinted task at a time). */
  exclusive(fn) {
    const run = this.lane.then(fn, fn);
    this.lane = run.then(() => undefined, () => undefined);
    return run;
  }

  /**
   * Run one call frame; resolves with {ok: true, data} or {ok: false, error} by its
   * deadline (timeout_ms less GRACE_MS counted from `receivedAt`), even when the Vinted
   * work is still running (the lane then stays busy until that work ends).
   */
  run(call, receivedAt = Date.now()) {
    const action = Object.hasOwn(this.table, call.action) ? this.table[call.action] : null;
    if (!action) return Promise.resolve(failure(new ActionError(ERR.UNKNOWN_ACTION, `The plugin has no action ${call.action}`)));
    let args;
    try {
      args = action.prepare(isObject(call.payload) ? call.payload : {});
    } catch (error) {
      return Promise.resolve(failure(error instanceof ActionError ? error : badRequest(String(error?.message ?? error))));
    }
    const budget = Math.max(call.timeout_ms - GRACE_MS, call.timeout_ms / 2);
    const deadline = receivedAt + budget;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(failure(timeoutError())), Math.max(0, deadline - Date.now()));
      const answer = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      this.exclusive(async () => {
        try {
          const ctx = await this.context({ deadline, paceMs: call.pace_ms, openTab: true });
          answer({ ok: true, data: await action.run(ctx, args) });
        } catch (error) {
          answer(failure(error));
        }
      });
    });
  }

  /** The Vinted login seen from an already open Vinted tab, or null (no tab, back-off, error). */
  probeSession() {
    return this.exclusive(async () => {
      if (this.pacer.blocked()) return null;
      try {
        const ctx = await this.context({ deadline: Date.now() + PROBE_BUDGET_MS, paceMs: PROBE_PACE_MS, openTab: false });
        return await ctx.session();
      } catch {
        return null;
      }
    });
  }

  async context({ deadline, paceMs, openTab }) {
    await this.pacer.ready();
    const { vintedOrigin, minPaceMs } = await this.loadSettings();
    this.pacer.setMinPace(minPaceMs);
    const ctx = { origin: vintedOrigin, domain: new URL(vintedOrigin).host, deadline, paceMs, openTab };
    ctx.request = (req, options) => this.request(ctx, req, options);
    ctx.session = async () => {
      const json = await ctx.request(requests.session(), { loggedOutOk: true });
      const session = sessionFrom(json, ctx.domain);
      this.noteSession(ctx.origin, session);
      return session;
    };
    ctx.knownSession = () => this.recentSession(ctx.origin);
    return ctx;
  }

  /** One Vinted request in the tab: the answer's JSON, or an ActionError. */
  async request(ctx, req, { write = false, parse = true, loggedOutOk = false } = {}) {
    for (let attempt = 0; ; attempt += 1) {
      const blocked = this.pacer.blocked();
      if (blocked) {
        throw new ActionError(blocked.code, blocked.message || `Waiting after Vinted's ${blocked.code.replace('_', ' ')}`,
          { status: blocked.status ?? undefined, retry_after: blocked.retry_after });
      }
      const left = ctx.deadline - Date.now();
      if (left <= 0) throw timeoutError();
      const tabId = await vintedTab(ctx.origin, { open: ctx.openTab, timeoutMs: Math.min(TAB_LOAD_MS, left) });
      if (tabId === null) throw new ActionError(ERR.NO_TAB, 'No Vinted tab is open');
      if (!(await this.pacer.wait(ctx.paceMs, ctx.deadline))) throw timeoutError();
      this.pacer.touch();
      const response = await runInTab(tabId, { ...req, timeoutMs: Math.max(1, ctx.deadline - Date.now()) });
      this.pacer.touch();
      if (loggedOutOk && response.status === 401) return null;
      let error = errorFor(response);
      if (error && response.tabLost) error = new ActionError(ERR.NO_TAB, `The Vinted tab failed: ${response.networkError}`);
      if (!error) return parse ? readJson(response) : null;
      const unreached = error.code === ERR.NETWORK || (error.code === ERR.NO_TAB && response.tabLost);
      if (unreached && !write && attempt === 0) {
        console.info('[marketdesk] a Vinted read did not get through; trying once more');
        continue;
      }
      if (error.code === ERR.RATE_LIMITED || error.code === ERR.CHALLENGE) {
        this.pacer.startBackoff(error.code, error.retry_after, error.status, error.message);
        console.warn(`[marketdesk] Vinted answered ${error.code}; nothing goes to Vinted for ${error.retry_after} s`);
      }
      if (error.code === ERR.NOT_LOGGED_IN) this.noteSession(ctx.origin, sessionFrom(null, ctx.domain));
      throw error;
    }
  }
}
