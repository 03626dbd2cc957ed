// bridge.test.mjs - src/bridge.js with a stand-in WebSocket: hello first, welcome, calls
// answered with result frames, bad calls answered bad_request, status on change, and
// what each close code leads to (retry later, or halt after 4409 and 4401).

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { Bridge, RETRY_MAX_MS, RETRY_MIN_MS, retryDelay } from '../src/bridge.js';

const sockets = [];
class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  constructor(url) {
    this.url = url;
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    this.closedWith = null;
    sockets.push(this);
  }

  send(text) {
    this.sent.push(JSON.parse(text));
  }

  close(code, reason) {
    this.readyState = FakeSocket.CLOSED;
    this.closedWith = [code, reason];
  }

  // the program's side
  accept() {
    this.readyState = FakeSocket.OPEN;
    this.onopen();
  }

  receive(frame) {
    this.onmessage({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  serverClose(code, reason = '') {
    this.readyState = FakeSocket.CLOSED;
    this.onclose({ code, reason });
  }
}

const savedWebSocket = globalThis.WebSocket;
const quiet = { info: console.info, warn: console.warn };
let bridges = [];

beforeEach(() => {
  globalThis.WebSocket = FakeSocket;
  sockets.length = 0;
  console.info = () => {};
  console.warn = () => {};
});

afterEach(() => {
  for (const bridge of bridges) bridge.drop(1000, 'test over'); // clears its timers
  bridges = [];
  globalThis.WebSocket = savedWebSocket;
  Object.assign(console, quiet);
});

const tick = () => new Promise((resolve) => setImmediate(resolve));

function makeBridge({ token = 'tok', runCall, vinted = null } = {}) {
  const state = { halt: null, welcomes: 0, calls: [] };
  const bridge = new Bridge({
    loadSettings: async () => ({ bridgePort: 47615, pairingToken: token, configured: token !== '' }),
    runCall: runCall ?? (async (call) => {
      state.calls.push(call);
      return { ok: true, data: { echo: call.action } };
    }),
    pluginVersion: '1.0.0',
    browser: 'Chrome/150',
    getVinted: () => vinted,
    loadHalt: async () => state.halt,
    saveHalt: async (halt) => {
      state.halt = halt;
    },
    onWelcome: () => {
      state.welcomes += 1;
    },
  });
  bridges.push(bridge);
  return { bridge, state };
}

async function connected(options) {
  const made = makeBridge(options);
  await made.bridge.ensure();
  const ws = sockets.at(-1);
  ws.accept();
  ws.receive({ v: 1, type: 'welcome', session: 's1', server_version: '0.4.0', max_frame: 4194304 });
  return { ...made, ws };
}

test('retryDelay: 1 s doubling to 60 s, +/-25 %', () => {
  assert.equal(retryDelay(0, () => 0), RETRY_MIN_MS);
  assert.equal(retryDelay(0, () => 1), 1250);
  assert.equal(retryDelay(5, () => 0.5), 32000);
  assert.equal(retryDelay(10, () => 1), RETRY_MAX_MS);
  assert.equal(retryDelay(1000, () => 0), 45000);
});

test('hello first with the token and the Vinted login, then connected on welcome', async () => {
  const vinted = { logged_in: true, user_id: '123', login: 'anna', domain: 'www.vinted.fr' };
  const { bridge, state, ws } = await connected({ vinted });
  assert.equal(ws.url, 'ws://127.0.0.1:47615/');
  assert.deepEqual(ws.sent[0], { v: 1, type: 'hello', token: 'tok', plugin_version: '1.0.0', browser: 'Chrome/150', vinted });
  assert.equal(bridge.getState().connection, 'connected');
  assert.equal(bridge.getState().session, 's1');
  assert.equal(state.welcomes, 1);
});

test('calls are run one at a time and answered with result frames', async () => {
  let running = 0;
  let most = 0;
  const runCall = async (call) => {
    running += 1;
    most = Math.max(most, running);
    await tick();
    running -= 1;
    return call.action === 'get_item'
      ? { ok: false, error: { code: 'not_found', message: 'gone', status: 404 } }
      : { ok: true, data: { action: call.action } };
  };
  const { ws } = await connected({ runCall });
  ws.receive({ v: 1, type: 'call', id: 'a', action: 'session_status', payload: {}, timeout_ms: 1000, pace_ms: 0 });
  ws.receive({ v: 1, type: 'call', id: 'b', action: 'get_item', payload: { item_id: '5' }, timeout_ms: 1000, pace_ms: 0 });
  for (let i = 0; i < 10; i += 1) await tick();
  const results = ws.sent.filter((frame) => frame.type === 'result');
  assert.deepEqual(results, [
    { v: 1, type: 'result', id: 'a', ok: true, data: { action: 'session_status' } },
    { v: 1, type: 'result', id: 'b', ok: false, error: { code: 'not_found', message: 'gone', status: 404 } },
  ]);
  assert.equal(most, 1);
});

test('an unreadable call with an id is answered bad_request; other bad frames are not answered', async () => {
  const { ws, state } = await connected();
  const before = ws.sent.length;
  ws.receive({ v: 1, type: 'call', id: 'q', action: 'get_item', payload: [1] });
  ws.receive('not json');
  ws.receive({ v: 1, type: 'nope' });
  await tick();
  assert.deepEqual(ws.sent.slice(before), [
    { v: 1, type: 'result', id: 'q', ok: false, error: { code: 'bad_request', message: 'call payload must be an object' } },
  ]);
  assert.deepEqual(state.calls, []);
});

test('an answer larger than max_frame becomes server_error', async () => {
  const { ws } = await connected({ runCall: async () => ({ ok: true, data: { blob: 'x'.repeat(2000) } }) });
  ws.receive({ v: 1, type: 'welcome', session: 's1', max_frame: 1000 });
  ws.receive({ v: 1, type: 'call', id: 'big', action: 'inbox', payload: {}, timeout_ms: 1000 });
  for (let i = 0; i < 5; i += 1) await tick();
  assert.deepEqual(ws.sent.at(-1).error.code, 'server_error');
});

test('status frames only when the login changed, unless forced', async () => {
  const { bridge, ws } = await connected();
  const session = { logged_in: true, user_id: '1', login: 'a', domain: 'www.vinted.fr' };
  bridge.sendStatus(session);
  bridge.sendStatus(session);
  bridge.sendStatus(session, { force: true });
  const statuses = ws.sent.filter((frame) => frame.type === 'status');
  assert.equal(statuses.length, 2);
  assert.deepEqual(statuses[0], { v: 1, type: 'status', vinted: session });
});

test('4409 and 4401 halt (no reconnect); other closes retry later', async () => {
  const replaced = await connected();
  replaced.ws.serverClose(4409, 'replaced by another plugin session');
  await tick();
  assert.equal(replaced.bridge.getState().connection, 'replaced');
  assert.deepEqual(replaced.state.halt, { connection: 'replaced', detail: 'another browser is connected to Marketdesk' });
  assert.equal(replaced.bridge.retryTimer, null);
  const count = sockets.length;
  await replaced.bridge.ensure();
  assert.equal(sockets.length, count, 'a halted plugin does not reconnect by itself');
  await replaced.bridge.restart(); // the Connect button
  assert.equal(sockets.length, count + 1);
  assert.equal(replaced.state.halt, null);

  const refused = await connected({ token: 'wrong' });
  refused.ws.serverClose(4401, 'pairing token wrong');
  await tick();
  assert.equal(refused.bridge.getState().connection, 'refused');
  assert.equal(refused.bridge.retryTimer, null);

  const stopped = await connected();
  stopped.ws.serverClose(1001, 'server stopping');
  assert.equal(stopped.bridge.getState().connection, 'waiting');
  assert.notEqual(stopped.bridge.retryTimer, null);
});

test('without a pairing token nothing connects', async () => {
  const { bridge } = makeBridge({ token: '' });
  await bridge.ensure();
  assert.equal(sockets.length, 0);
  assert.equal(bridge.getState().connection, 'not_configured');
});
