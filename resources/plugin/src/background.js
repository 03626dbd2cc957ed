// background.js - the service worker entry: builds the Pacer, the Actions and the Bridge
// and wires Chrome's events to them (install/start-up, the 30 s keep-alive alarm,
// settings changes, Vinted tab loads, and messages from the popup and options page).

import { Actions } from './actions.js';
import { Bridge } from './bridge.js';
import { Pacer } from './pacer.js';
import { sessionWire } from './protocol.js';
import { SETTING_KEYS, applyProvision, loadSettings } from './settings.js';

const VERSION = chrome.runtime.getManifest().version;
const BROWSER = `Chrome/${(/Chrome\/(\d+)/.exec(navigator.userAgent) ?? [])[1] ?? 'unknown'}`;
const ALARM = 'keepalive';
const PROBE_ON_ALARM_MS = 5 * 60 * 1000; // re-read the Vinted login at most this often by alarm
const PROBE_ON_EVENT_MS = 30 * 1000; // ... and on a Vinted page load or popup opening

// The last Vinted login seen, kept in session storage so a restarted worker remembers it.
let vinted = null;
let lastProbeAt = 0;
let probing = null;

const pacer = new Pacer({
  load: async () => (await chrome.storage.local.get('pacer')).pacer,
  save: (state) => chrome.storage.local.set({ pacer: state }),
});
const actions = new Actions({ pacer, loadSettings, onSession: noteSession });
const bridge = new Bridge({
  loadSettings,
  runCall: (call, receivedAt) => actions.run(call, receivedAt),
  pluginVersion: VERSION,
  browser: BROWSER,
  getVinted: () => vinted,
  loadHalt: async () => (await chrome.storage.session.get('halt')).halt ?? null,
  saveHalt: (halt) => (halt ? chrome.storage.session.set({ halt }) : chrome.storage.session.remove('halt')),
  onWelcome: () => probe(PROBE_ON_EVENT_MS),
});

/** A Vinted login was read (probe, session_status, a not_logged_in answer). */
function noteSession(session) {
  lastProbeAt = Date.now();
  const changed = JSON.stringify(sessionWire(session)) !== JSON.stringify(sessionWire(vinted));
  vinted = session;
  chrome.storage.session.set({ vinted, lastProbeAt }).catch(() => undefined);
  if (changed) {
    console.info(`[marketdesk] Vinted: ${session.logged_in ? `logged in as ${session.login ?? session.user_id}` : 'logged out'} on ${session.domain}`);
  }
  bridge.sendStatus(vinted);
}

/** Read the Vinted login from an open Vinted tab when the last reading is older than maxAgeMs. */
let lastAttemptAt = 0;
function probe(maxAgeMs) {
  const now = Date.now();
  if (probing || now - lastAttemptAt < 5000 || (vinted && now - lastProbeAt < maxAgeMs)) return probing;
  lastAttemptAt = now;
  probing = actions.probeSession().finally(() => {
    probing = null;
  });
  return probing;
}

async function restore() {
  const saved = await chrome.storage.session.get(['vinted', 'lastProbeAt']);
  vinted = saved.vinted ?? null;
  lastProbeAt = saved.lastProbeAt ?? 0;
  const alarm = await chrome.alarms.get(ALARM);
  if (!alarm) await chrome.alarms.create(ALARM, { periodInMinutes: 0.5 });
}

const ready = restore().catch((error) => console.warn('[marketdesk] start-up:', error));

async function boot(why) {
  await ready;
  console.info(`[marketdesk] ${why}: plugin ${VERSION} on ${BROWSER}`);
  await applyProvision(); // changed settings reconnect through storage.onChanged
  await bridge.ensure();
}

chrome.runtime.onInstalled.addListener(() => boot('installed'));
chrome.runtime.onStartup.addListener(() => boot('browser started'));

chrome.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name !== ALARM) return;
  await ready;
  await bridge.ensure();
  await probe(PROBE_ON_ALARM_MS);
  if (vinted) bridge.sendStatus(vinted, { force: true });
});

let restartTimer = null;
chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local' || !SETTING_KEYS.some((key) => key in changes)) return;
  if ('vintedOrigin' in changes) {
    vinted = null;
    chrome.storage.session.remove(['vinted', 'lastProbeAt']).catch(() => undefined);
  }
  clearTimeout(restartTimer); // several keys are often written at once
  restartTimer = setTimeout(() => bridge.settingsChanged(), 200);
});

chrome.tabs.onUpdated.addListener(async (tabId, change, tab) => {
  if (change.status !== 'complete' || !tab.url) return;
  const { vintedOrigin } = await loadSettings();
  let origin = null;
  try {
    origin = new URL(tab.url).origin;
  } catch {
    return;
  }
  if (origin === vintedOrigin) probe(PROBE_ON_EVENT_MS);
});

async function currentState() {
  await ready;
  await pacer.ready();
  const settings = await loadSettings();
  return {
    ...bridge.getState(),
    version: VERSION,
    configured: settings.configured,
    port: settings.bridgePort,
    vintedOrigin: settings.vintedOrigin,
    vinted,
    backoff: pacer.blocked(),
  };
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id || !message || typeof message.type !== 'string') return false;
  if (message.type === 'getState') {
    bridge.ensure();
    probe(PROBE_ON_EVENT_MS);
    currentState().then(sendResponse);
    return true;
  }
  if (message.type === 'connect') {
    console.info('[marketdesk] Connect pressed');
    bridge.restart().then(currentState).then(sendResponse);
    return true;
  }
  return false;
});

// A worker woken by any event reconnects (the alarm also does this every 30 s).
ready.then(() => bridge.ensure());
