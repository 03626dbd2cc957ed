// endpoints.js - EVERYTHING that depends on Vinted's private web API lives here: the URL
// paths, the request bodies (ItemFields -> VintedItem), the reading of the answers
// (VintedItemOut -> Item, VintedOrder -> Order, VintedConversation -> Conversation) and
// the mapping of Vinted's HTTP statuses to the protocol's error codes. When Vinted
// changes its API, this is the file to edit. Pure: no chrome.*, no fetch.

import { ActionError, ERR, badRequest } from '../errors.js';
import { backoffSeconds } from '../pacer.js';
import { isObject, optionalText, text } from '../util.js';

export const PATHS = Object.freeze({
  currentUser: () => '/api/v2/users/current',
  photos: () => '/api/v2/photos',
  createItem: () => '/api/v2/item_upload/items',
  updateItem: (id) => `/api/v2/item_upload/items/${id}`,
  deleteItem: (id) => `/api/v2/items/${id}/delete`,
  getItem: (id) => `/api/v2/items/${id}`,
  wardrobe: (userId, page, perPage) =>
    `/api/v2/wardrobe/${userId}/items?page=${page}&per_page=${perPage}&order=newest_first`,
  soldOrders: (page, perPage) => `/api/v2/my_orders?type=sold&status=all&page=${page}&per_page=${perPage}`,
  inbox: (page, perPage) => `/api/v2/inbox?page=${page}&per_page=${perPage}`,
  replies: (id) => `/api/v2/conversations/${id}/replies`,
});

/** ItemFields.condition -> Vinted status_id. */
export const STATUS_IDS = Object.freeze({ new_with_tags: 6, new_without_tags: 1, very_good: 2, good: 3, satisfactory: 4 });
/** ItemFields.package_size -> Vinted package_size_id. */
export const PACKAGE_SIZE_IDS = Object.freeze({ small: 1, medium: 2, large: 3 });

/**
 * A positive integer id from a number or a string of at most 15 digits (so that it stays
 * an exact JavaScript number); bad_request otherwise.
 */
export function idNumber(value, name) {
  const digits = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^[1-9]\d{0,14}$/.test(digits)) throw badRequest(`${name} must be a Vinted number, not ${JSON.stringify(value)}`);
  return Number(digits);
}

/** A decimal string with at least two decimals ("12.5" -> "12.50"), or null. */
export function decimal(value) {
  const raw = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^(-?\d+)(?:\.(\d*))?$/.exec(raw);
  if (!match) return null;
  const fraction = (match[2] ?? '').padEnd(2, '0');
  return `${match[1]}.${fraction}`;
}

// -- requests: {method, path, json?, multipart?} ---------------------------------------

/** ItemFields (the program's) -> VintedItem (Vinted's), with `id` for an update. */
export function vintedItem(fields, id) {
  if (!isObject(fields)) throw badRequest('item must be an object of item fields');
  const problems = [];
  const title = typeof fields.title === 'string' ? fields.title.trim() : '';
  if (!title) problems.push('title is required');
  if (fields.description !== undefined && fields.description !== null && typeof fields.description !== 'string') {
    problems.push('description must be text');
  }
  const price = Number(typeof fields.price === 'string' ? fields.price.trim() : fields.price);
  if (!(Number.isFinite(price) && price > 0) || typeof fields.price === 'boolean') problems.push('price must be a positive decimal');
  if (typeof fields.currency !== 'string' || !fields.currency.trim()) problems.push('currency is required');
  if (!(fields.condition in STATUS_IDS)) problems.push(`condition must be one of ${Object.keys(STATUS_IDS).join(', ')}`);
  if (!(fields.package_size in PACKAGE_SIZE_IDS)) problems.push(`package_size must be one of ${Object.keys(PACKAGE_SIZE_IDS).join(', ')}`);
  for (const key of ['brand', 'size']) {
    if (fields[key] !== undefined && fields[key] !== null && typeof fields[key] !== 'string') problems.push(`${key} must be text or null`);
  }
  if (fields.photo_ids !== undefined && !Array.isArray(fields.photo_ids)) problems.push('photo_ids must be a list');
  if (problems.length) throw badRequest(`item fields: ${problems.join('; ')}`);
  const item = {
    title,
    description: text(fields.description),
    price,
    currency: fields.currency.trim(),
    catalog_id: idNumber(fields.catalog_id, 'catalog_id'),
    brand: optionalText(fields.brand),
    size: optionalText(fields.size),
    status_id: STATUS_IDS[fields.condition],
    package_size_id: PACKAGE_SIZE_IDS[fields.package_size],
    assigned_photos: (fields.photo_ids ?? []).map((photo) => ({ id: idNumber(photo, 'photo_ids[]'), orientation: 0 })),
  };
  return id === undefined ? item : { id: idNumber(id, 'item_id'), ...item };
}

export const requests = Object.freeze({
  session: () => ({ method: 'GET', path: PATHS.currentUser() }),
  uploadPhoto: ({ filename, contentType, dataBase64, tempUuid }) => ({
    method: 'POST',
    path: PATHS.photos(),
    multipart: {
      fields: [['photo[type]', 'item'], ['photo[temp_uuid]', tempUuid]],
      file: { name: 'photo[file]', filename, contentType, base64: dataBase64 },
    },
  }),
  createItem: (fields, tempUuid) => ({
    method: 'POST',
    path: PATHS.createItem(),
    json: { item: vintedItem(fields), feedback_id: null, push_up: false, upload_session_id: tempUuid },
  }),
  updateItem: (itemId, fields) => ({
    method: 'PUT',
    path: PATHS.updateItem(idNumber(itemId, 'item_id')),
    json: { item: vintedItem(fields, itemId) },
  }),
  deleteItem: (itemId) => ({ method: 'POST', path: PATHS.deleteItem(idNumber(itemId, 'item_id')) }),
  getItem: (itemId) => ({ method: 'GET', path: PATHS.getItem(idNumber(itemId, 'item_id')) }),
  wardrobe: (userId, page, perPage) => ({ method: 'GET', path: PATHS.wardrobe(idNumber(userId, 'user_id'), page, perPage) }),
  soldOrders: (page, perPage) => ({ method: 'GET', path: PATHS.soldOrders(page, perPage) }),
  inbox: (page, perPage) => ({ method: 'GET', path: PATHS.inbox(page, perPage) }),
  sendMessage: (conversationId, body) => ({
    method: 'POST',
    path: PATHS.replies(idNumber(conversationId, 'conversation_id')),
    json: { reply: { body } },
  }),
});

// -- answers ---------------------------------------------------------------------------

const unexpected = (what) => new ActionError(ERR.SERVER_ERROR, `Vinted answered ${what} in a shape the plugin does not know`);
const hasId = (value) => isObject(value) && value.id !== undefined && value.id !== null;

/** VintedSession from GET users/current (`json` null for a 401). */
export function sessionFrom(json, domain) {
  const user = isObject(json) && hasId(json.user) ? json.user : null;
  if (!user) return { logged_in: false, user_id: null, login: null, domain };
  return { logged_in: true, user_id: String(user.id), login: optionalText(user.login), domain };
}

function itemState(out) {
  if (out.is_draft) return 'draft';
  if (out.is_closed) return 'sold';
  if (out.is_reserved) return 'reserved';
  if (out.is_hidden) return 'hidden';
  return 'active';
}

function absolute(url, origin) {
  if (typeof url !== 'string' || !url) return null;
  try {
    return origin ? new URL(url, origin).href : url;
  } catch {
    return url;
  }
}

/** VintedItemOut -> Item (photo_ids: the ids of its photos, as text). */
export function normalizeItem(out, origin) {
  if (!hasId(out)) throw unexpected('an item');
  const price = isObject(out.price) ? out.price : { amount: out.price, currency_code: out.currency };
  const photos = Array.isArray(out.photos) ? out.photos : [];
  return {
    id: String(out.id),
    title: text(out.title),
    description: text(out.description),
    price: decimal(price.amount),
    currency: optionalText(price.currency_code ?? out.currency),
    url: absolute(out.url, origin),
    state: itemState(out),
    brand: optionalText(out.brand_title ?? out.brand),
    size: optionalText(out.size_title ?? out.size),
    photo_urls: photos
      .map((photo) => absolute(isObject(photo) ? photo.url ?? photo.full_size_url : null, origin))
      .filter(Boolean),
    photo_ids: photos.filter(hasId).map((photo) => String(photo.id)),
  };
}

/** VintedOrder -> Order. */
export function normalizeOrder(order) {
  if (!isObject(order)) throw unexpected('an order');
  const price = isObject(order.price) ? order.price : { amount: order.price };
  return {
    order_id: optionalText(order.transaction_id ?? order.id),
    item_id: optionalText(order.item_id),
    title: text(order.title),
    price: decimal(price.amount),
    currency: optionalText(price.currency_code),
    status: optionalText(order.status),
    sold_at: optionalText(order.date),
    buyer: isObject(order.user) ? optionalText(order.user.login) : null,
  };
}

/** VintedConversation -> Conversation (subject = description). */
export function normalizeConversation(conversation) {
  if (!isObject(conversation) || conversation.id === undefined) throw unexpected('a conversation');
  const last = conversation.last_message;
  return {
    id: String(conversation.id),
    subject: text(conversation.description),
    last_message: isObject(last) ? text(last.body) : text(last),
    unread: conversation.unread === true,
    item_id: optionalText(conversation.item_id),
    other_user: isObject(conversation.opposite_user) ? optionalText(conversation.opposite_user.login) : null,
  };
}

/** {entries, page, total_pages} of a paged answer; `key` names Vinted's list. */
export function paged(json, key, page, normalize) {
  if (!isObject(json) || !Array.isArray(json[key])) throw unexpected(`a ${key} list`);
  const pagination = isObject(json.pagination) ? json.pagination : {};
  const current = Number.isInteger(pagination.current_page) ? pagination.current_page : page;
  const total = Number.isInteger(pagination.total_pages) ? pagination.total_pages : current;
  return { entries: json[key].map(normalize), page: current, total_pages: total };
}

export const answers = Object.freeze({
  photo(json) {
    if (!hasId(json)) throw unexpected('the photo upload');
    return { photo_id: String(json.id), url: optionalText(json.url) };
  },
  item(json, origin) {
    if (!isObject(json) || !isObject(json.item)) throw unexpected('an item');
    return { item: normalizeItem(json.item, origin) };
  },
  reply(json) {
    if (!isObject(json) || !hasId(json.reply)) throw unexpected('the reply');
    return { message_id: String(json.reply.id) };
  },
});

// -- errors ----------------------------------------------------------------------------

/** Retry-After (seconds or an HTTP date) in seconds, or null. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined || value === '') return null;
  const raw = String(value).trim();
  if (/^\d+$/.test(raw)) return Number(raw);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

function tryJson(body) {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

/**
 * True when Vinted answered a page, not data: a body that starts with "<", or a text/html
 * answer whose body is not JSON.
 */
export function isHtml(response) {
  const body = response.bodyText ?? '';
  if (/^\s*</.test(body)) return true;
  return /html/i.test(response.contentType ?? '') && tryJson(body) === null;
}

/** The JSON of a 2xx answer; server_error when Vinted sent something else. */
export function readJson(response) {
  const json = tryJson(response.bodyText ?? '');
  if (json === null) throw new ActionError(ERR.SERVER_ERROR, 'Vinted answered something other than data', { status: response.status });
  return json;
}

/**
 * The ActionError for a Vinted answer to an /api/v2 request ({status, contentType,
 * retryAfter, bodyText} or {networkError, aborted}), or null when it succeeded: 2xx with
 * data. The API answers data, so an HTML page at any status (200 included) is a security
 * check (challenge), except that 401 stays not_logged_in and 429 rate_limited.
 */
export function errorFor(response) {
  if (response.networkError !== undefined) {
    if (response.aborted) return new ActionError(ERR.TIMEOUT, 'The Vinted request ran out of time');
    return new ActionError(ERR.NETWORK, `The request did not reach Vinted (${response.networkError})`);
  }
  const status = response.status;
  const body = response.bodyText ?? '';
  const retryAfter = parseRetryAfter(response.retryAfter);
  if (status === 401) return new ActionError(ERR.NOT_LOGGED_IN, 'Log in to Vinted in this browser', { status });
  if (status === 429) {
    return new ActionError(ERR.RATE_LIMITED, 'Vinted asks to slow down', { status, retry_after: backoffSeconds(ERR.RATE_LIMITED, retryAfter) });
  }
  if (isHtml(response) || (status === 403 && /captcha|datadome/i.test(body))) {
    return new ActionError(ERR.CHALLENGE, 'Vinted showed a security check: open Vinted in the browser and complete it',
      { status, retry_after: backoffSeconds(ERR.CHALLENGE, retryAfter) });
  }
  if (status >= 200 && status < 300) return null;
  const json = tryJson(body);
  const said = isObject(json) && typeof json.message === 'string' && json.message ? json.message : null;
  if (status === 404 || status === 410) return new ActionError(ERR.NOT_FOUND, said ?? 'Vinted does not know this item or conversation', { status });
  if (status === 408 || status === 409 || status >= 500) {
    return new ActionError(ERR.SERVER_ERROR, `Vinted could not handle the request now (HTTP ${status})`, { status });
  }
  const fields = {};
  for (const entry of isObject(json) && Array.isArray(json.errors) ? json.errors : []) {
    if (isObject(entry) && typeof entry.field === 'string') fields[entry.field] = text(entry.value ?? entry.message);
  }
  const extra = Object.keys(fields).length ? { status, fields } : { status };
  return new ActionError(ERR.REJECTED, said ?? `Vinted refused the request (HTTP ${status})`, extra);
}
