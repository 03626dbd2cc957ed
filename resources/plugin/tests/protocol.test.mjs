// protocol.test.mjs - src/protocol.js: the frames the plugin builds and the parser of the
// program's frames (docs/bridge-protocol.md, "Frames"), including unreadable frames.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ActionError } from '../src/errors.js';
import {
  CLOSE, DEFAULT_TIMEOUT_MS, PROTOCOL_VERSION, buildErrorResult, buildHello, buildPing, buildResult, buildStatus, parseFrame, sessionWire,
} from '../src/protocol.js';

const parsed = (text) => JSON.parse(text);

test('hello carries the token, versions and the Vinted session (or null)', () => {
  assert.equal(PROTOCOL_VERSION, 1);
  assert.deepEqual(parsed(buildHello({ token: 't0k', pluginVersion: '1.0.0', browser: 'Chrome/150' })), {
    v: 1, type: 'hello', token: 't0k', plugin_version: '1.0.0', browser: 'Chrome/150', vinted: null,
  });
  const vinted = { logged_in: true, user_id: 123, login: 'anna', domain: 'www.vinted.fr' };
  assert.deepEqual(parsed(buildHello({ token: 't', pluginVersion: '1.0.0', browser: 'Chrome/150', vinted })).vinted, {
    logged_in: true, user_id: '123', login: 'anna', domain: 'www.vinted.fr',
  });
});

test('sessionWire: ids are strings, a logged-out session names nobody', () => {
  assert.deepEqual(sessionWire({ logged_in: false, user_id: 5, login: 'x', domain: 'www.vinted.de' }), {
    logged_in: false, user_id: null, login: null, domain: 'www.vinted.de',
  });
  assert.deepEqual(sessionWire({ logged_in: true, user_id: '', login: '', domain: '' }), {
    logged_in: true, user_id: null, login: null, domain: null,
  });
  assert.equal(sessionWire(null), null);
  assert.equal(sessionWire([]), null);
  assert.equal(sessionWire('yes'), null);
});

test('result frames: ok with data, failed with the error fields that are set', () => {
  assert.deepEqual(parsed(buildResult('r1', { deleted: true })), { v: 1, type: 'result', id: 'r1', ok: true, data: { deleted: true } });
  assert.deepEqual(parsed(buildResult('r1')), { v: 1, type: 'result', id: 'r1', ok: true, data: {} });
  assert.deepEqual(parsed(buildErrorResult('r2', { code: 'rate_limited', message: 'Vinted asks to slow down', status: 429, retry_after: 900 })), {
    v: 1, type: 'result', id: 'r2', ok: false, error: { code: 'rate_limited', message: 'Vinted asks to slow down', status: 429, retry_after: 900 },
  });
  // unset, null and malformed extras are left out; the message falls back to the code
  assert.deepEqual(parsed(buildErrorResult('r3', { code: 'network', status: null, retry_after: undefined, fields: ['x'] })).error, {
    code: 'network', message: 'network',
  });
  const rejected = new ActionError('rejected', 'Invalid', { status: 422, fields: { price: 'must be at least 1' } });
  assert.deepEqual(parsed(buildErrorResult('r4', rejected)).error, {
    code: 'rejected', message: 'Invalid', status: 422, fields: { price: 'must be at least 1' },
  });
});

test('status and ping', () => {
  assert.deepEqual(parsed(buildStatus({ logged_in: false, domain: 'www.vinted.fr' })), {
    v: 1, type: 'status', vinted: { logged_in: false, user_id: null, login: null, domain: 'www.vinted.fr' },
  });
  assert.throws(() => buildStatus(null), TypeError);
  assert.deepEqual(parsed(buildPing()), { v: 1, type: 'ping' });
});

test('parses the documented frames from the program', () => {
  assert.deepEqual(parseFrame('{"v": 1, "type": "welcome", "session": "abc", "server_version": "0.4.0", "max_frame": 4194304}'), {
    ok: true, frame: { type: 'welcome', session: 'abc', server_version: '0.4.0', max_frame: 4194304 },
  });
  assert.deepEqual(parseFrame('{"v": 1, "type": "welcome", "session": "abc"}').frame, {
    type: 'welcome', session: 'abc', server_version: null, max_frame: null,
  });
  const call = '{"v": 1, "type": "call", "id": "req-1", "action": "wardrobe", "payload": {"page": 1, "per_page": 96}, "timeout_ms": 120000, "pace_ms": 2500}';
  assert.deepEqual(parseFrame(call), {
    ok: true,
    frame: { type: 'call', id: 'req-1', action: 'wardrobe', payload: { page: 1, per_page: 96 }, timeout_ms: 120000, pace_ms: 2500 },
  });
  assert.deepEqual(parseFrame('{"v": 1, "type": "pong"}'), { ok: true, frame: { type: 'pong' } });
  assert.deepEqual(parseFrame('{"v": 1, "type": "error", "code": "malformed", "message": "bad frame"}'), {
    ok: true, frame: { type: 'error', code: 'malformed', message: 'bad frame' },
  });
});

test('a call without payload, timeout or pace gets the defaults; unknown fields are ignored', () => {
  const { frame } = parseFrame('{"v": 1, "type": "call", "id": "q", "action": "session_status", "future": [1, 2]}');
  assert.deepEqual(frame, { type: 'call', id: 'q', action: 'session_status', payload: {}, timeout_ms: DEFAULT_TIMEOUT_MS, pace_ms: 0 });
  assert.deepEqual(parseFrame('{"v": 1, "type": "call", "id": "q", "action": "a", "payload": null, "timeout_ms": null}').frame.payload, {});
});

test('unreadable frames are refused with a reason', () => {
  const bad = [
    'nope', '', '[]', '"text"', '42', 'null', '{"type": "pong"}', '{"v": "1", "type": "pong"}', '{"v": 1.5, "type": "pong"}',
    '{"v": true, "type": "pong"}', '{"v": 2, "type": "pong"}', '{"v": 1}', '{"v": 1, "type": 7}', '{"v": 1, "type": "zzz"}',
    '{"v": 1, "type": "hello"}', '{"v": 1, "type": "welcome"}', '{"v": 1, "type": "welcome", "session": "s", "max_frame": 0}',
    '{"v": 1, "type": "welcome", "session": "s", "server_version": 4}', '{"v": 1, "type": "error"}',
    '{"v": 1, "type": "error", "code": "x", "message": 5}', '{"v": 1, "type": "call"}', '{"v": 1, "type": "call", "id": ""}',
  ];
  for (const text of bad) {
    const result = parseFrame(text);
    assert.equal(result.ok, false, text);
    assert.equal(typeof result.reason, 'string', text);
    assert.ok(result.reason.length > 0, text);
    assert.equal(result.id, undefined, text);
  }
  assert.equal(parseFrame(new ArrayBuffer(4)).ok, false);
});

test('an unreadable call that names its id keeps the id (to answer bad_request)', () => {
  const bad = [
    '{"v": 1, "type": "call", "id": "q"}',
    '{"v": 1, "type": "call", "id": "q", "action": ""}',
    '{"v": 1, "type": "call", "id": "q", "action": "a", "payload": [1]}',
    '{"v": 1, "type": "call", "id": "q", "action": "a", "payload": "x"}',
    '{"v": 1, "type": "call", "id": "q", "action": "a", "timeout_ms": "5"}',
    '{"v": 1, "type": "call", "id": "q", "action": "a", "timeout_ms": 0}',
    '{"v": 1, "type": "call", "id": "q", "action": "a", "timeout_ms": -1}',
    '{"v": 1, "type": "call", "id": "q", "action": "a", "pace_ms": -1}',
    '{"v": 1, "type": "call", "id": "q", "action": "a", "pace_ms": "fast"}',
  ];
  for (const text of bad) {
    const result = parseFrame(text);
    assert.equal(result.ok, false, text);
    assert.equal(result.id, 'q', text);
  }
});

test('the close codes the plugin acts on', () => {
  assert.deepEqual({ ...CLOSE }, { BAD_VERSION: 4400, BAD_TOKEN: 4401, REPLACED: 4409 });
});
