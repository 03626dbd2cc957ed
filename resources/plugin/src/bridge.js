// bridge.js - the WebSocket client to Marketdesk on ws://127.0.0.1:<port>/: hello first,
// then welcome/call/pong/error frames; calls are queued and run one at a time, each
// answered with a result frame; ping every 20 s; reconnect with exponential back-off
// (1-60 s, jittered) after a drop, but not after 4409 (replaced) or 4401 (token refused).

import { CLOSE, buildErrorResult, buildHello, buildPing, buildResult, buildStatus, parseFrame, sessionWire } from './protocol.js';

export const PING_MS = 20000;
export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 60000;
const WELCOME_MS = 10000; // the program answers a hello at once
const SILENCE_MS = 65000; // nothing received for this long (pongs included): the link is dead

/** The wait before reconnect attempt number `attempt` (0-based): 1 s doubling to 60 s, +/-25 %. */
export function retryDelay(attempt, random = Math.random) {
  const base = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt, 16));
  return Math.round(Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, base * (0.75 + 0.5 * random()))));
}

export class Bridge {
  /**
   * @param {{loadSettings, runCall: (call, receivedAt) => Promise<{ok, data?, error?}>,
   *   pluginVersion: string, browser: string, getVinted: () => object|null,
   *   loadHalt: () => Promise<object|null>, saveHalt: (halt|null) => Promise,
   *   onWelcome?: () => void}} deps
   */
  constructor(deps) {
    Object.assign(this, { onWelcome: () => {} }, deps);
    this.ws = null;
    this.attempts = 0;
    this.retryTimer = null;
    this.timers = [];
    this.queue = [];
    this.busy = false;
    this.maxFrame = 4 * 1024 * 1024;
    this.lastStatus = null;
    this.lastCall = null;
    this.state = { connection: 'connecting', detail: '', port: null, retryAt: null, session: null, serverVersion: null };
  }

  setState(connection, detail = '', extra = {}) {
    const changed = connection !== this.state.connection || detail !== this.state.detail;
    this.state = { ...this.state, connection, detail, retryAt: null, ...extra };
    if (changed) console.info(`[marketdesk] connection: ${connection}${detail ? ` (${detail})` : ''}`);
  }

  /** What the popup and options page show. */
  getState() {
    return { ...this.state, queued: this.queue.length, busy: this.busy, lastCall: this.lastCall };
  }

  /** Connect unless connected, connecting, waiting for a retry or halted (alarm, start-up). */
  async ensure() {
    if (this.ws || this.retryTimer || this.starting) return;
    await this.connect();
  }

  /** Drop any connection and any halt, and connect afresh (Connect button, new settings). */
  async restart() {
    if (this.starting) await this.starting; // let a half-done connect finish, then replace it
    await this.saveHalt(null);
    this.attempts = 0;
    this.drop(1000, 'reconnecting');
    await this.connect();
  }

  /** Settings were saved: reconnect when the port or the token differ from the ones in use. */
  async settingsChanged() {
    const settings = await this.loadSettings();
    if (`${settings.bridgePort} ${settings.pairingToken}` === this.usedKey) return;
    console.info('[marketdesk] port or pairing token changed; reconnecting');
    await this.restart();
  }

  async connect() {
    if (this.starting) return this.starting;
    this.starting = this.open().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  async open() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.ws) return;
    const settings = await this.loadSettings();
    const halt = await this.loadHalt();
    this.usedKey = `${settings.bridgePort} ${settings.pairingToken}`;
    this.state.port = settings.bridgePort;
    if (halt) return this.setState(halt.connection, halt.detail);
    if (!settings.configured) return this.setState('not_configured', 'enter the pairing token shown by Marketdesk');
    const url = `ws://127.0.0.1:${settings.bridgePort}/`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (error) {
      return this.scheduleRetry(`cannot open ${url}: ${error.message}`);
    }
    this.ws = ws;
    this.lastHeard = Date.now();
    this.setState('connecting', url, { session: null, serverVersion: null });
    ws.onopen = () => {
      const vinted = this.getVinted();
      this.lastStatus = JSON.stringify(sessionWire(vinted));
      ws.send(buildHello({ token: settings.pairingToken, pluginVersion: this.pluginVersion, browser: this.browser, vinted }));
      this.timers.push(setTimeout(() => this.lost(ws, 'no welcome from Marketdesk'), WELCOME_MS));
    };
    ws.onmessage = (event) => this.receive(ws, event.data);
    ws.onclose = (event) => this.closed(ws, event.code, event.reason);
    ws.onerror = () => {}; // a close event follows with the details there are
  }

  /** Forget the current socket (its late events are ignored) and close it. */
  drop(code, reason) {
    const ws = this.ws;
    this.ws = null;
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers = [];
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.queue = this.queue.filter((entry) => entry.ws !== ws);
    if (ws && ws.readyState <= WebSocket.OPEN) {
      try {
        ws.close(code, reason);
      } catch {
        /* already closing */
      }
    }
  }

  /** The connection went quiet or never got a welcome: drop it and retry. */
  lost(ws, why) {
    if (ws !== this.ws) return;
    console.warn(`[marketdesk] ${why}; reconnecting`);
    this.drop(4000, why);
    this.scheduleRetry(why);
  }

  closed(ws, code, reason) {
    if (ws !== this.ws) return;
    this.drop(1000, '');
    console.info(`[marketdesk] connection closed: ${code}${reason ? ` ${reason}` : ''}`);
    if (code === CLOSE.REPLACED) return this.halt('replaced', 'another browser is connected to Marketdesk');
    if (code === CLOSE.BAD_TOKEN) return this.halt('refused', `Marketdesk refused the pairing token (${reason || 'pairing token wrong'})`);
    if (code === CLOSE.BAD_VERSION) return this.halt('refused', 'this plugin and Marketdesk speak different protocol versions');
    this.scheduleRetry(code === 1006 ? 'Marketdesk is not reachable' : reason || `closed with ${code}`);
  }

  async halt(connection, detail) {
    this.setState(connection, detail);
    await this.saveHalt({ connection, detail });
  }

  scheduleRetry(why) {
    const delay = retryDelay(this.attempts, Math.random);
    this.attempts += 1;
    this.setState('waiting', why, { retryAt: Date.now() + delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  receive(ws, data) {
    if (ws !== this.ws) return;
    this.lastHeard = Date.now();
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      console.warn(`[marketdesk] unreadable frame from Marketdesk: ${parsed.reason}`);
      if (parsed.id) this.send(ws, buildErrorResult(parsed.id, { code: 'bad_request', message: parsed.reason }));
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 'welcome') return this.welcomed(ws, frame);
    if (frame.type === 'call') {
      this.queue.push({ ws, frame, receivedAt: Date.now() });
      this.pump();
    } else if (frame.type === 'error') {
      console.warn(`[marketdesk] Marketdesk says ${frame.code}: ${frame.message}`);
    }
  }

  welcomed(ws, frame) {
    this.timers.forEach((timer) => clearTimeout(timer));
    this.attempts = 0;
    if (frame.max_frame) this.maxFrame = frame.max_frame;
    this.setState('connected', `Marketdesk ${frame.server_version ?? ''}`.trim(), { session: frame.session, serverVersion: frame.server_version });
    this.timers = [setInterval(() => {
      if (Date.now() - this.lastHeard > SILENCE_MS) return this.lost(ws, 'no answer from Marketdesk');
      this.send(ws, buildPing());
    }, PING_MS)];
    this.onWelcome();
  }

  /** Run queued calls one at a time, answering each on the connection it came from. */
  async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length) {
        const { ws, frame, receivedAt } = this.queue.shift();
        if (ws !== this.ws) continue;
        const started = Date.now();
        const outcome = await this.runCall(frame, receivedAt);
        const what = outcome.ok ? 'ok' : outcome.error.code;
        console.info(`[marketdesk] call ${frame.action} -> ${what} (${Date.now() - started} ms)`);
        this.lastCall = { action: frame.action, outcome: what, at: Date.now() };
        let text = outcome.ok ? buildResult(frame.id, outcome.data) : buildErrorResult(frame.id, outcome.error);
        if (new TextEncoder().encode(text).length > this.maxFrame) {
          text = buildErrorResult(frame.id, { code: 'server_error', message: 'The answer is larger than Marketdesk accepts' });
        }
        if (!this.send(ws, text)) console.warn(`[marketdesk] the answer to ${frame.action} was lost: the connection closed`);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Send on `ws` when it is still the open connection; false otherwise. */
  send(ws, text) {
    if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(text);
    return true;
  }

  /** A status frame with `vinted`, when connected and (unless `force`) it changed. */
  sendStatus(vinted, { force = false } = {}) {
    const wire = sessionWire(vinted);
    if (!wire || this.state.connection !== 'connected') return;
    const text = JSON.stringify(wire);
    if (!force && text === this.lastStatus) return;
    if (this.send(this.ws, buildStatus(vinted))) this.lastStatus = text;
  }
}
