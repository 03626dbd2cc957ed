// actions.test.mjs - src/actions.js with a fake `chrome` (tests/fake-chrome.mjs): what each
// action sends to Vinted and answers, payload checks that never touch Vinted, writes never
// retried, reads retried once when they did not reach Vinted, the minimum pace, the time
// budget, the back-off, the tab handling and the wardrobe's reuse of the Vinted login.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { GRACE_MS, SESSION_REUSE_MS, Actions } from '../src/actions.js';
import { Pacer } from '../src/pacer.js';
import { fakeChrome, htmlAnswer, jsonAnswer } from './fake-chrome.mjs';

const ORIGIN = 'https://www.vinted.fr';
const USER = jsonAnswer({ user: { id: 123, login: 'anna' } });
const ITEM_OUT = { id: 9, title: 'Blue jeans', price: { amount: '12.5', currency_code: 'EUR' }, url: '/items/9', photos: [{ id: 987, url: '/987.jpg' }] };
const FIELDS = {
  title: 'Blue jeans', description: '', price: '12.50', currency: 'EUR', catalog_id: 5, brand: null, size: null, condition: 'good',
  package_size: 'small', photo_ids: ['987'],
};
const NETWORK = { networkError: 'Failed to fetch', aborted: false };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const quiet = { info: console.info, warn: console.warn };
beforeEach(() => {
  console.info = () => {};
  console.warn = () => {};
});
afterEach(() => {
  Object.assign(console, quiet);
  delete globalThis.chrome;
});

/** Actions on a fake chrome; the pacer records its waits instead of sleeping. */
function setup({ minPaceMs = 0, origin = ORIGIN, ...chromeOptions } = {}) {
  const fake = fakeChrome(chromeOptions);
  globalThis.chrome = fake.chrome;
  const slept = [];
  const pacer = new Pacer({ random: () => 0, sleep: async (ms) => slept.push(ms) });
  const sessions = [];
  const settings = { vintedOrigin: origin, minPaceMs };
  const actions = new Actions({
    pacer, loadSettings: async () => ({ ...settings }), onSession: (session) => sessions.push(session), newUuid: () => 'gen-uuid',
  });
  const call = (action, payload = {}, extra = {}) =>
    actions.run({ type: 'call', id: 'r1', action, payload, timeout_ms: 10000, pace_ms: 0, ...extra });
  return { fake, pacer, actions, sessions, slept, settings, call };
}

const paths = (fake) => fake.requests.map((request) => `${request.method} ${request.path}`);

test('session_status reads users/current and reports the login', async () => {
  const { fake, sessions, call } = setup();
  fake.handler = async () => USER;
  assert.deepEqual(await call('session_status'), { ok: true, data: { logged_in: true, user_id: '123', login: 'anna', domain: 'www.vinted.fr' } });
  fake.handler = async () => jsonAnswer({ code: 100, message: 'unauthorized' }, 401);
  assert.deepEqual(await call('session_status'), { ok: true, data: { logged_in: false, user_id: null, login: null, domain: 'www.vinted.fr' } });
  assert.deepEqual(paths(fake), ['GET /api/v2/users/current', 'GET /api/v2/users/current']);
  assert.deepEqual(sessions.map((session) => session.logged_in), [true, false]);
  assert.ok(fake.requests.every((request) => request.tabId === 7 && request.timeoutMs > 0));
});

test('upload_photo and create_item: one request each, in the Vinted tab', async () => {
  const { fake, call } = setup();
  fake.handler = async (request) => (request.path === '/api/v2/photos' ? jsonAnswer({ id: 987, url: 'https://img/987.jpg' }) : jsonAnswer({ item: ITEM_OUT }));
  const photo = await call('upload_photo', { filename: 'a.png', content_type: 'image/png', data_base64: 'UE5H\nREFUQQ==' });
  assert.deepEqual(photo, { ok: true, data: { photo_id: '987', url: 'https://img/987.jpg' } });
  assert.deepEqual(fake.requests[0].multipart, {
    fields: [['photo[type]', 'item'], ['photo[temp_uuid]', 'gen-uuid']],
    file: { name: 'photo[file]', filename: 'a.png', contentType: 'image/png', base64: 'UE5HREFUQQ==' },
  });
  const created = await call('create_item', { item: FIELDS, temp_uuid: 'u-7' });
  assert.equal(created.ok, true, JSON.stringify(created));
  assert.deepEqual(created.data.item, {
    id: '9', title: 'Blue jeans', description: '', price: '12.50', currency: 'EUR', url: 'https://www.vinted.fr/items/9', state: 'active',
    brand: null, size: null, photo_urls: ['https://www.vinted.fr/987.jpg'], photo_ids: ['987'],
  });
  assert.equal(fake.requests[1].json.upload_session_id, 'u-7');
  assert.deepEqual(fake.requests[1].json.item.assigned_photos, [{ id: 987, orientation: 0 }]);
  assert.deepEqual(paths(fake), ['POST /api/v2/photos', 'POST /api/v2/item_upload/items']);
});

test('update_item, delete_item, get_item, sold_orders, inbox, send_message', async () => {
  const { fake, call } = setup();
  fake.handler = async (request) => {
    if (request.path.startsWith('/api/v2/my_orders')) {
      return jsonAnswer({ my_orders: [{ transaction_id: 1, item_id: 9, title: 't', price: { amount: '3', currency_code: 'EUR' } }], pagination: { current_page: 1, total_pages: 1 } });
    }
    if (request.path.startsWith('/api/v2/inbox')) return jsonAnswer({ conversations: [{ id: 4, description: 's' }], pagination: { current_page: 2, total_pages: 5 } });
    if (request.path.endsWith('/replies')) return jsonAnswer({ reply: { id: 31 } });
    if (request.path.endsWith('/delete')) return jsonAnswer({ code: 0 });
    return jsonAnswer({ item: ITEM_OUT });
  };
  assert.equal((await call('update_item', { item_id: '9', item: FIELDS })).data.item.id, '9');
  assert.deepEqual(await call('delete_item', { item_id: 9 }), { ok: true, data: { deleted: true } });
  assert.equal((await call('get_item', { item_id: '9' })).data.item.photo_ids[0], '987');
  const orders = await call('sold_orders', { page: 1, per_page: 20 });
  assert.deepEqual({ ...orders.data, orders: orders.data.orders.length }, { orders: 1, page: 1, total_pages: 1 });
  assert.equal(orders.data.orders[0].price, '3.00');
  const inbox = await call('inbox', { page: 2 });
  assert.deepEqual(inbox.data, {
    conversations: [{ id: '4', subject: 's', last_message: '', unread: false, item_id: null, other_user: null }], page: 2, total_pages: 5,
  });
  assert.deepEqual(await call('send_message', { conversation_id: '77', body: 'Hello' }), { ok: true, data: { message_id: '31' } });
  assert.deepEqual(paths(fake), [
    'PUT /api/v2/item_upload/items/9', 'POST /api/v2/items/9/delete', 'GET /api/v2/items/9',
    'GET /api/v2/my_orders?type=sold&status=all&page=1&per_page=20', 'GET /api/v2/inbox?page=2&per_page=20',
    'POST /api/v2/conversations/77/replies',
  ]);
  assert.equal(fake.requests[0].json.item.id, 9);
  assert.deepEqual(fake.requests.at(-1).json, { reply: { body: 'Hello' } });
});

test('bad_request and unknown_action never touch Vinted (nor the tabs)', async () => {
  const { fake, call } = setup();
  const refused = [
    ['create_item', { item: { title: 'x' } }], ['create_item', {}], ['update_item', { item: FIELDS }], ['update_item', { item_id: 'x', item: FIELDS }],
    ['delete_item', {}], ['delete_item', { item_id: '1/../2' }], ['get_item', { item_id: -3 }], ['upload_photo', { data_base64: '!!' }],
    ['upload_photo', { data_base64: 'AAAA', content_type: 'text/html' }], ['wardrobe', { page: 0 }], ['wardrobe', { per_page: 500 }],
    ['inbox', { page: '2' }], ['sold_orders', { page: 1.5 }], ['send_message', { conversation_id: '5', body: ' ' }],
    ['send_message', { body: 'hi' }],
  ];
  for (const [action, payload] of refused) {
    const outcome = await call(action, payload);
    assert.equal(outcome.ok, false, `${action} ${JSON.stringify(payload)}`);
    assert.equal(outcome.error.code, 'bad_request', `${action} ${JSON.stringify(payload)}`);
    assert.ok(outcome.error.message);
  }
  for (const action of ['fly', 'constructor', '__proto__', 'toString', '']) {
    assert.equal((await call(action)).error.code, 'unknown_action', action);
  }
  assert.equal((await call('get_item', 'item 5')).error.code, 'bad_request', 'a payload that is not an object reads as {}');
  assert.deepEqual(fake.requests, []);
  assert.deepEqual(fake.tabCalls, []);
});

test('writes are never retried', async () => {
  const writes = [
    ['upload_photo', { data_base64: 'AAAA' }], ['create_item', { item: FIELDS }], ['update_item', { item_id: 9, item: FIELDS }],
    ['delete_item', { item_id: 9 }], ['send_message', { conversation_id: 4, body: 'hi' }],
  ];
  for (const [action, payload] of writes) {
    const { fake, call } = setup();
    fake.handler = async () => NETWORK;
    assert.equal((await call(action, payload)).error.code, 'network', action);
    fake.handler = async () => {
      throw new Error('Frame with ID 0 was removed.');
    };
    assert.equal((await call(action, payload)).error.code, 'no_tab', action);
    fake.handler = async () => jsonAnswer({}, 503);
    assert.equal((await call(action, payload)).error.code, 'server_error', action);
    assert.equal(fake.requests.length, 3, `${action} was sent ${fake.requests.length} times for 3 calls`);
  }
});

test('reads are retried once when they did not reach Vinted', async () => {
  for (const [action, payload] of [['get_item', { item_id: 5 }], ['inbox', {}], ['sold_orders', {}], ['session_status', {}]]) {
    const { fake, call } = setup();
    fake.handler = async () => NETWORK;
    assert.equal((await call(action, payload)).error.code, 'network', action);
    assert.equal(fake.requests.length, 2, action);

    fake.requests.length = 0;
    let attempts = 0;
    fake.handler = async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('The tab was closed.');
      return action === 'session_status' ? USER : jsonAnswer({ item: ITEM_OUT, my_orders: [], conversations: [] });
    };
    assert.equal((await call(action, payload)).ok, true, action);
    assert.equal(fake.requests.length, 2, action);

    fake.requests.length = 0;
    fake.handler = async () => jsonAnswer({}, 502);
    assert.equal((await call(action, payload)).error.code, 'server_error', `${action}: a Vinted answer is not retried`);
    assert.equal(fake.requests.length, 1, action);
  }
});

test('requests are spaced by the minimum pace (1000 ms) even when pace_ms is lower', async () => {
  const { fake, slept, call } = setup({ minPaceMs: 1000 });
  fake.handler = async () => USER;
  await call('session_status', {}, { pace_ms: 0 });
  await call('session_status', {}, { pace_ms: 0 });
  await call('session_status', {}, { pace_ms: 500 });
  assert.equal(fake.requests.length, 3);
  assert.equal(slept.length, 2);
  for (const ms of slept) assert.ok(ms > 900 && ms <= 1000, `waited ${ms} ms`);
  await call('session_status', {}, { pace_ms: 3000 });
  assert.ok(slept[2] > 2900 && slept[2] <= 3000, `waited ${slept[2]} ms`);
});

test('provision.json\'s minPaceMs 0 lets pace_ms 0 run without waiting', async () => {
  const { fake, slept, call } = setup({ minPaceMs: 0 });
  fake.handler = async () => USER;
  await call('session_status');
  await call('session_status');
  assert.equal(fake.requests.length, 2);
  assert.deepEqual(slept, []);
});

test('timeout is answered before the budget; the lane stays busy until the work ends', async () => {
  const { fake, call } = setup();
  let release;
  fake.handler = () => new Promise((resolve) => {
    release = () => resolve(jsonAnswer({ item: ITEM_OUT }));
  });
  const started = Date.now();
  const outcome = await call('get_item', { item_id: 5 }, { timeout_ms: 400 });
  const took = Date.now() - started;
  assert.equal(outcome.error.code, 'timeout');
  assert.ok(took >= 150 && took < 400, `answered after ${took} ms`);
  assert.equal(GRACE_MS, 1000);

  fake.handler = async () => USER;
  let second = null;
  call('session_status').then((result) => {
    second = result;
  });
  await sleep(30);
  assert.equal(second, null, 'waits for the running request');
  assert.equal(fake.requests.length, 1);
  release();
  await sleep(30);
  assert.equal(second?.ok, true);
  assert.equal(fake.requests.length, 2);
});

test('a pace wait that would pass the deadline answers timeout without a request', async () => {
  const { fake, call } = setup({ minPaceMs: 1000 });
  fake.handler = async () => USER;
  await call('session_status');
  const started = Date.now();
  const outcome = await call('session_status', {}, { timeout_ms: 1000 }); // budget 500 ms < the 1000 ms pace
  assert.equal(outcome.error.code, 'timeout');
  assert.ok(Date.now() - started < 400);
  assert.equal(fake.requests.length, 1);
});

test('after a 429 nothing goes to Vinted; calls answer the remaining retry_after', async () => {
  const { fake, actions, call } = setup();
  fake.handler = async () => ({ status: 429, contentType: 'application/json', retryAfter: '600', bodyText: '{}' });
  assert.deepEqual((await call('inbox')).error, { code: 'rate_limited', message: 'Vinted asks to slow down', status: 429, retry_after: 600 });
  fake.handler = async () => USER;
  for (const [action, payload] of [['send_message', { conversation_id: 5, body: 'hi' }], ['session_status', {}], ['get_item', { item_id: 1 }]]) {
    const { error } = await call(action, payload);
    assert.equal(error.code, 'rate_limited', action);
    assert.equal(error.status, 429);
    assert.ok(error.retry_after > 590 && error.retry_after <= 600, String(error.retry_after));
  }
  assert.equal(await actions.probeSession(), null);
  assert.equal(fake.requests.length, 1);
});

test('an HTML page from the API (even 200) is a challenge and starts the back-off', async () => {
  const { fake, pacer, call } = setup();
  fake.handler = async () => htmlAnswer(200, '<html><head><title>Just a moment</title></head></html>');
  const { error } = await call('get_item', { item_id: 5 });
  assert.deepEqual({ code: error.code, status: error.status, retry_after: error.retry_after }, { code: 'challenge', status: 200, retry_after: 1800 });
  assert.equal(pacer.blocked().code, 'challenge');
  assert.equal((await call('delete_item', { item_id: 5 })).error.code, 'challenge');
  assert.equal(fake.requests.length, 1);
});

test('a 401 on any request reports the seller logged out', async () => {
  const { fake, sessions, call } = setup();
  fake.handler = async () => jsonAnswer({}, 401);
  assert.equal((await call('inbox')).error.code, 'not_logged_in');
  assert.deepEqual(sessions, [{ logged_in: false, user_id: null, login: null, domain: 'www.vinted.fr' }]);
});

test('the wardrobe reads the login once and reuses it for the next pages', async () => {
  const { fake, actions, call } = setup();
  fake.handler = async (request) => (request.path === '/api/v2/users/current'
    ? USER
    : jsonAnswer({ items: [ITEM_OUT], pagination: { current_page: Number(/page=(\d+)/.exec(request.path)[1]), total_pages: 3 } }));
  for (const page of [1, 2, 3]) {
    const outcome = await call('wardrobe', { page, per_page: 96 });
    assert.deepEqual({ page: outcome.data.page, total_pages: outcome.data.total_pages, items: outcome.data.items.length }, { page, total_pages: 3, items: 1 });
  }
  assert.deepEqual(paths(fake), [
    'GET /api/v2/users/current',
    'GET /api/v2/wardrobe/123/items?page=1&per_page=96&order=newest_first',
    'GET /api/v2/wardrobe/123/items?page=2&per_page=96&order=newest_first',
    'GET /api/v2/wardrobe/123/items?page=3&per_page=96&order=newest_first',
  ]);
  // an older reading is read again
  actions.known.at -= SESSION_REUSE_MS;
  fake.requests.length = 0;
  await call('wardrobe', { page: 1 });
  assert.deepEqual(paths(fake), ['GET /api/v2/users/current', 'GET /api/v2/wardrobe/123/items?page=1&per_page=96&order=newest_first']);
});

test('the wardrobe reads the login again after a 401, a logout or another Vinted site', async () => {
  const { fake, settings, call } = setup();
  let loggedIn = true;
  fake.handler = async (request) => {
    if (!loggedIn) return jsonAnswer({}, 401);
    return request.path === '/api/v2/users/current' ? USER : jsonAnswer({ items: [] });
  };
  assert.equal((await call('wardrobe')).ok, true);
  loggedIn = false;
  assert.equal((await call('wardrobe')).error.code, 'not_logged_in');
  assert.equal((await call('wardrobe')).error.code, 'not_logged_in');
  loggedIn = true;
  assert.equal((await call('wardrobe')).ok, true);
  settings.vintedOrigin = 'https://www.vinted.de';
  fake.tabs.push({ id: 8, url: 'https://www.vinted.de/', status: 'complete' });
  assert.equal((await call('wardrobe')).ok, true);
  assert.deepEqual(fake.requests.map((request) => `${request.tabId} ${request.path.split('?')[0]}`), [
    '7 /api/v2/users/current', '7 /api/v2/wardrobe/123/items', // logged in
    '7 /api/v2/wardrobe/123/items', // 401: logged out from now on
    '7 /api/v2/users/current', // still logged out: no wardrobe request
    '7 /api/v2/users/current', '7 /api/v2/wardrobe/123/items', // logged in again
    '8 /api/v2/users/current', '8 /api/v2/wardrobe/123/items', // another site
  ]);
});

test('a missing Vinted tab is opened in the background; no_tab when that fails', async () => {
  const opened = setup({ tabs: [{ id: 3, url: 'https://example.org/', status: 'complete' }] });
  opened.fake.handler = async () => USER;
  assert.equal((await opened.call('session_status')).ok, true);
  const create = opened.fake.tabCalls.find(([name]) => name === 'create');
  assert.deepEqual(create, ['create', { url: 'https://www.vinted.fr/', active: false }]);
  assert.equal(opened.fake.requests[0].tabId, 101, 'the request runs in the new tab');

  const refused = setup({ tabs: [], canCreate: false });
  assert.equal((await refused.call('session_status')).error.code, 'no_tab');
  assert.deepEqual(refused.fake.requests, []);
});

test('the login probe uses an open tab only and never opens one', async () => {
  const { fake, actions, sessions } = setup({ tabs: [] });
  assert.equal(await actions.probeSession(), null);
  assert.equal(fake.tabCalls.some(([name]) => name === 'create'), false);
  fake.tabs.push({ id: 7, url: 'https://www.vinted.fr/member/123', status: 'complete' });
  fake.handler = async () => USER;
  assert.deepEqual(await actions.probeSession(), { logged_in: true, user_id: '123', login: 'anna', domain: 'www.vinted.fr' });
  assert.equal(sessions.length, 1);
});
