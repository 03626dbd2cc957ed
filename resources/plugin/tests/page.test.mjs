// page.test.mjs - src/vinted/page.js: the function Chrome serializes into the Vinted tab.
// It is rebuilt from its source text (as Chrome does), so it must not use anything from
// its module; document and fetch are stand-ins.

import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';

import { vintedFetch } from '../src/vinted/page.js';

const inPage = new Function(`return (${vintedFetch.toString()})`)();
const saved = { document: globalThis.document, fetch: globalThis.fetch };
let seen = null;

function page({ csrf = 'CSRF-1', cookie = 'a=1; anon_id=abc%2Ddef; b=2', answer } = {}) {
  globalThis.document = {
    querySelector: (selector) => (selector === 'meta[name="csrf-token"]' && csrf ? { getAttribute: () => csrf } : null),
    cookie,
  };
  globalThis.fetch = async (path, init) => {
    seen = { path, init };
    return answer ? answer(path, init) : new Response('{"ok": true}', { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

afterEach(() => {
  Object.assign(globalThis, saved);
  seen = null;
});

test('a JSON request: same origin, cookies, the CSRF token and anon_id', async () => {
  page({ answer: () => new Response('{"id": 987}', { status: 201, headers: { 'content-type': 'application/json', 'retry-after': '5' } }) });
  const answer = await inPage({ method: 'PUT', path: '/api/v2/item_upload/items/9', json: { item: { id: 9 } }, timeoutMs: 5000 });
  assert.deepEqual(answer, { status: 201, contentType: 'application/json', retryAfter: '5', bodyText: '{"id": 987}' });
  assert.equal(seen.path, '/api/v2/item_upload/items/9');
  assert.equal(seen.init.method, 'PUT');
  assert.equal(seen.init.credentials, 'include');
  assert.equal(seen.init.body, '{"item":{"id":9}}');
  assert.deepEqual(seen.init.headers, {
    accept: 'application/json', 'x-csrf-token': 'CSRF-1', 'x-anon-id': 'abc-def', 'content-type': 'application/json',
  });
});

test('a GET without a token or anon_id sends neither header', async () => {
  page({ csrf: null, cookie: 'other=1' });
  const answer = await inPage({ method: 'GET', path: '/api/v2/users/current' });
  assert.equal(answer.status, 200);
  assert.deepEqual(seen.init.headers, { accept: 'application/json' });
  assert.equal(seen.init.body, undefined);
});

test('a multipart photo upload carries the fields and the decoded file', async () => {
  page();
  const bytes = Buffer.from([0xff, 0xd8, 0x00, 0x10, 0xff, 0xd9]);
  await inPage({
    method: 'POST',
    path: '/api/v2/photos',
    multipart: {
      fields: [['photo[type]', 'item'], ['photo[temp_uuid]', 'u-1']],
      file: { name: 'photo[file]', filename: 'a.jpg', contentType: 'image/jpeg', base64: bytes.toString('base64') },
    },
  });
  const form = seen.init.body;
  assert.equal(form.get('photo[type]'), 'item');
  assert.equal(form.get('photo[temp_uuid]'), 'u-1');
  const file = form.get('photo[file]');
  assert.equal(file.name, 'a.jpg');
  assert.equal(file.type, 'image/jpeg');
  assert.deepEqual(Buffer.from(await file.arrayBuffer()), bytes);
  assert.equal(seen.init.headers['content-type'], undefined, 'the browser sets the multipart boundary');
});

test('a failed fetch and a timeout are answered, never thrown', async () => {
  page({ answer: () => { throw new TypeError('Failed to fetch'); } });
  assert.deepEqual(await inPage({ method: 'GET', path: '/x' }), { networkError: 'Failed to fetch', aborted: false });
  page({
    answer: (path, init) => new Promise((resolve, reject) => {
      init.signal.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')));
    }),
  });
  const answer = await inPage({ method: 'GET', path: '/x', timeoutMs: 20 });
  assert.equal(answer.aborted, true);
  assert.match(answer.networkError, /abort/i);
});
