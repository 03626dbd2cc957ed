// endpoints.test.mjs - src/vinted/endpoints.js: Vinted's paths, ItemFields -> VintedItem,
// the normalizers (VintedItemOut -> Item with photo_ids, orders, conversations, sessions)
// and the mapping of Vinted's answers to the protocol's error codes.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ActionError, errorWire } from '../src/errors.js';
import {
  PACKAGE_SIZE_IDS, PATHS, STATUS_IDS, answers, decimal, errorFor, idNumber, isHtml, normalizeConversation, normalizeItem,
  normalizeOrder, paged, parseRetryAfter, readJson, requests, sessionFrom, vintedItem,
} from '../src/vinted/endpoints.js';

const isBadRequest = (error) => error instanceof ActionError && error.code === 'bad_request';

const FIELDS = Object.freeze({
  title: 'Blue jeans', description: 'Nice', price: '12.50', currency: 'EUR', catalog_id: 1839, brand: 'Levi', size: null,
  condition: 'very_good', package_size: 'medium', photo_ids: ['987', '988'],
});

const OUT = Object.freeze({
  id: 555, title: 'Blue jeans', description: 'Nice', price: { amount: '12.5', currency_code: 'EUR' },
  url: 'https://www.vinted.fr/items/555-blue-jeans', is_closed: false, is_reserved: false, is_hidden: false, is_draft: false,
  brand_title: 'Levi', size_title: 'W32',
  photos: [{ id: 987, url: 'https://images.vinted.net/987.jpg' }, { id: 988, url: '/988.jpg' }],
});

test('the request paths', () => {
  assert.deepEqual(requests.session(), { method: 'GET', path: '/api/v2/users/current' });
  assert.deepEqual(requests.deleteItem('42'), { method: 'POST', path: '/api/v2/items/42/delete' });
  assert.deepEqual(requests.getItem(42), { method: 'GET', path: '/api/v2/items/42' });
  assert.deepEqual(requests.wardrobe('123', 2, 96), { method: 'GET', path: '/api/v2/wardrobe/123/items?page=2&per_page=96&order=newest_first' });
  assert.deepEqual(requests.soldOrders(1, 20), { method: 'GET', path: '/api/v2/my_orders?type=sold&status=all&page=1&per_page=20' });
  assert.deepEqual(requests.inbox(3, 20), { method: 'GET', path: '/api/v2/inbox?page=3&per_page=20' });
  assert.deepEqual(requests.sendMessage('77', 'hi'), { method: 'POST', path: '/api/v2/conversations/77/replies', json: { reply: { body: 'hi' } } });
  assert.equal(PATHS.photos(), '/api/v2/photos');
  for (const build of Object.values(PATHS)) assert.match(build(1, 1, 1), /^\/api\/v2\//);
});

test('the photo upload is multipart with type, temp_uuid and the file', () => {
  assert.deepEqual(requests.uploadPhoto({ filename: 'a.jpg', contentType: 'image/jpeg', dataBase64: 'AAAA', tempUuid: 'u-1' }), {
    method: 'POST',
    path: '/api/v2/photos',
    multipart: {
      fields: [['photo[type]', 'item'], ['photo[temp_uuid]', 'u-1']],
      file: { name: 'photo[file]', filename: 'a.jpg', contentType: 'image/jpeg', base64: 'AAAA' },
    },
  });
});

test('create_item: ItemFields -> VintedItem with the upload session', () => {
  assert.deepEqual(requests.createItem(FIELDS, 'uuid-1'), {
    method: 'POST',
    path: '/api/v2/item_upload/items',
    json: {
      item: {
        title: 'Blue jeans', description: 'Nice', price: 12.5, currency: 'EUR', catalog_id: 1839, brand: 'Levi', size: null,
        status_id: 2, package_size_id: 2, assigned_photos: [{ id: 987, orientation: 0 }, { id: 988, orientation: 0 }],
      },
      feedback_id: null,
      push_up: false,
      upload_session_id: 'uuid-1',
    },
  });
});

test('update_item: PUT with the id in the path and in the item', () => {
  const request = requests.updateItem('555', { ...FIELDS, condition: 'new_with_tags', package_size: 'large', photo_ids: undefined });
  assert.equal(request.method, 'PUT');
  assert.equal(request.path, '/api/v2/item_upload/items/555');
  assert.deepEqual(Object.keys(request.json), ['item']);
  assert.equal(request.json.item.id, 555);
  assert.equal(request.json.item.status_id, 6);
  assert.equal(request.json.item.package_size_id, 3);
  assert.deepEqual(request.json.item.assigned_photos, []);
});

test('conditions and package sizes map to the documented Vinted ids', () => {
  assert.deepEqual({ ...STATUS_IDS }, { new_with_tags: 6, new_without_tags: 1, very_good: 2, good: 3, satisfactory: 4 });
  assert.deepEqual({ ...PACKAGE_SIZE_IDS }, { small: 1, medium: 2, large: 3 });
  for (const [condition, id] of Object.entries(STATUS_IDS)) assert.equal(vintedItem({ ...FIELDS, condition }).status_id, id);
  for (const [size, id] of Object.entries(PACKAGE_SIZE_IDS)) assert.equal(vintedItem({ ...FIELDS, package_size: size }).package_size_id, id);
});

test('item fields the plugin cannot send are bad_request', () => {
  const broken = [
    null, [], { ...FIELDS, condition: 'mint' }, { ...FIELDS, package_size: 'huge' }, { ...FIELDS, price: 'abc' }, { ...FIELDS, price: 0 },
    { ...FIELDS, price: true }, { ...FIELDS, currency: '' }, { ...FIELDS, catalog_id: 'x' }, { ...FIELDS, catalog_id: 0 }, { ...FIELDS, title: ' ' },
    { ...FIELDS, description: 5 }, { ...FIELDS, brand: 3 }, { ...FIELDS, photo_ids: '987' }, { ...FIELDS, photo_ids: ['a'] },
  ];
  for (const fields of broken) assert.throws(() => vintedItem(fields), isBadRequest, JSON.stringify(fields));
  assert.throws(() => requests.updateItem('../x', FIELDS), isBadRequest);
  assert.throws(() => requests.deleteItem('../x'), isBadRequest);
  assert.throws(() => requests.sendMessage('1/replies', 'hi'), isBadRequest);
});

test('idNumber: up to 15 digits, so that the number stays exact', () => {
  assert.equal(idNumber('42', 'id'), 42);
  assert.equal(idNumber(' 42 ', 'id'), 42);
  assert.equal(idNumber(42, 'id'), 42);
  assert.equal(idNumber('999999999999999', 'id'), 999999999999999);
  for (const bad of ['1234567890123456', '123456789012345678', 2 ** 53 + 2, '0', '012', '-1', '1.5', 1.5, '1e3', '', null, undefined, {}, '4 2']) {
    assert.throws(() => idNumber(bad, 'id'), isBadRequest, String(bad));
  }
});

test('decimal prices have at least two decimals', () => {
  assert.equal(decimal('12'), '12.00');
  assert.equal(decimal(12.5), '12.50');
  assert.equal(decimal('12.345'), '12.345');
  assert.equal(decimal(' 3.1 '), '3.10');
  assert.equal(decimal('x'), null);
  assert.equal(decimal(null), null);
  assert.equal(decimal(Number.NaN), null);
});

test('VintedItemOut -> Item, with photo_urls and photo_ids', () => {
  assert.deepEqual(answers.item({ item: OUT }, 'https://www.vinted.fr'), {
    item: {
      id: '555', title: 'Blue jeans', description: 'Nice', price: '12.50', currency: 'EUR', url: 'https://www.vinted.fr/items/555-blue-jeans',
      state: 'active', brand: 'Levi', size: 'W32',
      photo_urls: ['https://images.vinted.net/987.jpg', 'https://www.vinted.fr/988.jpg'],
      photo_ids: ['987', '988'],
    },
  });
});

test('photo_ids are strings, in Vinted order; photos without an id are left out', () => {
  const item = normalizeItem({ ...OUT, photos: [{ id: 12345678901234, url: 'u1' }, { url: 'u2' }, null, { id: '77', full_size_url: 'u3' }] });
  assert.deepEqual(item.photo_ids, ['12345678901234', '77']);
  assert.deepEqual(item.photo_urls, ['u1', 'u2', 'u3']);
  assert.deepEqual(normalizeItem({ id: 1 }).photo_ids, []);
  assert.deepEqual(normalizeItem({ id: 1, photos: 'none' }).photo_ids, []);
});

test('item state: draft, sold, reserved, hidden, active', () => {
  assert.equal(normalizeItem({ ...OUT, is_closed: true, is_draft: true }).state, 'draft');
  assert.equal(normalizeItem({ ...OUT, is_closed: true, is_reserved: true }).state, 'sold');
  assert.equal(normalizeItem({ ...OUT, is_reserved: true, is_hidden: true }).state, 'reserved');
  assert.equal(normalizeItem({ ...OUT, is_hidden: true }).state, 'hidden');
  assert.equal(normalizeItem(OUT).state, 'active');
});

test('item details: relative urls, empty brand, a plain price', () => {
  assert.equal(normalizeItem({ ...OUT, url: '/items/555' }, 'http://127.0.0.1:9000').url, 'http://127.0.0.1:9000/items/555');
  assert.equal(normalizeItem({ ...OUT, url: undefined }).url, null);
  assert.equal(normalizeItem({ ...OUT, brand_title: '' }).brand, null);
  const plain = normalizeItem({ id: 3, price: '7', currency: 'PLN' });
  assert.equal(plain.price, '7.00');
  assert.equal(plain.currency, 'PLN');
  assert.equal(plain.title, '');
  for (const bad of [null, {}, { id: null }, [OUT]]) assert.throws(() => normalizeItem(bad), (error) => error.code === 'server_error');
  assert.throws(() => answers.item({}), (error) => error.code === 'server_error');
});

test('photo and reply answers', () => {
  assert.deepEqual(answers.photo({ id: 987, url: 'https://images/987.jpg' }), { photo_id: '987', url: 'https://images/987.jpg' });
  assert.deepEqual(answers.photo({ id: 987 }), { photo_id: '987', url: null });
  assert.throws(() => answers.photo({ url: 'x' }), (error) => error.code === 'server_error');
  assert.deepEqual(answers.reply({ reply: { id: 31 } }), { message_id: '31' });
  assert.throws(() => answers.reply({ reply: {} }), (error) => error.code === 'server_error');
  assert.throws(() => answers.reply(null), (error) => error.code === 'server_error');
});

test('VintedOrder -> Order and VintedConversation -> Conversation', () => {
  assert.deepEqual(normalizeOrder({
    transaction_id: 9, item_id: 555, title: 'Blue jeans', price: { amount: '12.5', currency_code: 'EUR' }, status: 'completed',
    date: '2024-05-01T10:00:00+02:00', user: { login: 'bob' },
  }), {
    order_id: '9', item_id: '555', title: 'Blue jeans', price: '12.50', currency: 'EUR', status: 'completed',
    sold_at: '2024-05-01T10:00:00+02:00', buyer: 'bob',
  });
  assert.deepEqual(normalizeConversation({
    id: 77, description: 'Blue jeans', unread: true, item_id: 555, opposite_user: { login: 'bob' }, last_message: { body: 'hello' },
  }), { id: '77', subject: 'Blue jeans', last_message: 'hello', unread: true, item_id: '555', other_user: 'bob' });
  assert.deepEqual(normalizeConversation({ id: 78 }), { id: '78', subject: '', last_message: '', unread: false, item_id: null, other_user: null });
});

test('paged answers and the session', () => {
  assert.deepEqual(paged({ items: [OUT], pagination: { current_page: 1, total_pages: 3 } }, 'items', 1, (item) => item.id), {
    entries: [555], page: 1, total_pages: 3,
  });
  assert.deepEqual(paged({ items: [] }, 'items', 4, (item) => item), { entries: [], page: 4, total_pages: 4 });
  assert.throws(() => paged({ items: 'x' }, 'items', 1, (item) => item), (error) => error.code === 'server_error');
  assert.deepEqual(sessionFrom({ user: { id: 123, login: 'anna' } }, 'www.vinted.fr'), { logged_in: true, user_id: '123', login: 'anna', domain: 'www.vinted.fr' });
  assert.deepEqual(sessionFrom(null, 'www.vinted.fr'), { logged_in: false, user_id: null, login: null, domain: 'www.vinted.fr' });
  assert.deepEqual(sessionFrom({ user: {} }, 'www.vinted.fr').logged_in, false);
});

// -- errors -------------------------------------------------------------------------------

const answer = (status, bodyText = '{}', { contentType = 'application/json', retryAfter = null } = {}) =>
  ({ status, bodyText, contentType, retryAfter });

test('2xx with data is no error; a network failure is network, an abort timeout', () => {
  assert.equal(errorFor(answer(200, '{"item": {}}')), null);
  assert.equal(errorFor(answer(201, '{"id": 1}')), null);
  assert.equal(errorFor(answer(204, '', { contentType: '' })), null);
  assert.equal(errorFor({ networkError: 'Failed to fetch', aborted: false }).code, 'network');
  assert.equal(errorFor({ networkError: 'The operation was aborted', aborted: true }).code, 'timeout');
});

test('an HTML answer from the API is a challenge at any status, 200 included', () => {
  const html = '<!DOCTYPE html><html><head><title>vinted.fr</title></head><body>Please enable JS</body></html>';
  for (const status of [200, 201, 202, 204, 400, 403, 404, 405, 408, 409, 410, 422, 500, 502, 503]) {
    for (const response of [answer(status, html, { contentType: 'text/html; charset=utf-8' }), answer(status, `\n  ${html}`, { contentType: '' }),
      answer(status, '', { contentType: 'text/html' })]) {
      const error = errorFor(response);
      assert.ok(error, `${status} ${response.contentType}`);
      assert.equal(error.code, 'challenge', `${status} ${response.contentType}`);
      assert.equal(error.status, status);
      assert.equal(error.retry_after, 1800);
    }
  }
  // a longer Retry-After is kept; a shorter one is raised to the 1800 s minimum
  assert.equal(errorFor(answer(403, html, { contentType: 'text/html', retryAfter: '3600' })).retry_after, 3600);
  assert.equal(errorFor(answer(200, html, { contentType: 'text/html', retryAfter: '60' })).retry_after, 1800);
  // DataDome's JSON captcha answer
  assert.equal(errorFor(answer(403, '{"url": "https://geo.captcha-delivery.com/captcha/?x=1"}')).code, 'challenge');
  assert.equal(isHtml(answer(200, '{"a": 1}', { contentType: 'text/html' })), false, 'JSON mislabelled as html is data');
  assert.equal(isHtml(answer(200, '{"a": 1}')), false);
});

test('401 is not_logged_in and 429 rate_limited even with an HTML body', () => {
  assert.equal(errorFor(answer(401)).code, 'not_logged_in');
  assert.equal(errorFor(answer(401, '<html></html>', { contentType: 'text/html' })).code, 'not_logged_in');
  const limited = errorFor(answer(429));
  assert.deepEqual(errorWire(limited), { code: 'rate_limited', message: 'Vinted asks to slow down', status: 429, retry_after: 900 });
  assert.equal(errorFor(answer(429, '<html>slow</html>', { contentType: 'text/html', retryAfter: '120' })).code, 'rate_limited');
  assert.equal(errorFor(answer(429, '{}', { retryAfter: '120' })).retry_after, 120);
});

test('404/410 are not_found; 408, 409 and 5xx are retryable server_error', () => {
  assert.equal(errorFor(answer(404)).code, 'not_found');
  assert.equal(errorFor(answer(410)).code, 'not_found');
  assert.equal(errorFor(answer(404, '{"code": 104, "message": "Item not found"}')).message, 'Item not found');
  for (const status of [408, 409, 500, 502, 503, 504]) {
    const error = errorFor(answer(status, '{"code": 1, "message": "busy"}'));
    assert.equal(error.code, 'server_error', String(status));
    assert.equal(error.status, status);
  }
});

test('other 4xx are rejected with Vinted\'s message and fields', () => {
  const body = '{"code": 99, "message": "Invalid", "message_code": "validation_error", "errors": [{"field": "price", "value": "must be at least 1"}, {"field": "title", "message": "too short"}]}';
  assert.deepEqual(errorWire(errorFor(answer(422, body))), {
    code: 'rejected', message: 'Invalid', status: 422, fields: { price: 'must be at least 1', title: 'too short' },
  });
  assert.deepEqual(errorWire(errorFor(answer(400, ''))), { code: 'rejected', message: 'Vinted refused the request (HTTP 400)', status: 400 });
  assert.equal(errorFor(answer(403, '{"message": "Not allowed"}')).code, 'rejected');
});

test('Retry-After in seconds or as an HTTP date', () => {
  assert.equal(parseRetryAfter('120'), 120);
  assert.equal(parseRetryAfter(' 5 '), 5);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')), 60);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 08:00:00 GMT')), 0);
  assert.equal(parseRetryAfter('soon'), null);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter(''), null);
});

test('readJson: the data of a 2xx, server_error for anything else', () => {
  assert.deepEqual(readJson(answer(200, '{"a": 1}')), { a: 1 });
  assert.throws(() => readJson(answer(200, '')), (error) => error.code === 'server_error' && error.status === 200);
  assert.throws(() => readJson(answer(200, 'not json')), (error) => error.code === 'server_error');
});
