// settings.js - the plugin's settings in chrome.storage.local (bridgePort, pairingToken,
// vintedOrigin; minPaceMs from provision.json only), their checks, and provision.json: a
// pre-filled copy written by the program, read at install/start-up. The only module that
// writes the settings.

import { MIN_PACE_MS } from './pacer.js';

export const DEFAULT_PORT = 47615;
export const DEFAULT_ORIGIN = 'https://www.vinted.fr';
/** The settings the seller edits (a change of one of them may need a reconnect). */
export const SETTING_KEYS = Object.freeze(['bridgePort', 'pairingToken', 'vintedOrigin']);
/** Test-only: the least spacing of Vinted requests; set by provision.json only. */
export const MIN_PACE_KEY = 'minPaceMs';
/** The largest minPaceMs provision.json may set. */
const MAX_MIN_PACE_MS = 60000;

/** The Vinted sites of the manifest's host_permissions (www. hosts only). */
export const VINTED_ORIGINS = Object.freeze(
  ['fr', 'com', 'de', 'it', 'es', 'nl', 'be', 'pl', 'co.uk', 'at', 'pt', 'lt', 'cz', 'sk', 'hu',
    'ro', 'se', 'fi', 'dk', 'gr', 'hr', 'ie', 'lu'].map((tld) => `https://www.vinted.${tld}`),
);

// The content of the provision.json last applied: a changed file is applied again, an
// unchanged one does not undo what the seller changed in the options page since.
const PROVISION_MARK = 'provisionApplied';
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|localhost)(:\d{1,5})?$/;

/** `value` as a port number (1024-65535), or null. */
export function checkPort(value) {
  const text = String(value ?? '').trim();
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1024 && port <= 65535 ? port : null;
}

/** `value` as a bare origin (scheme://host[:port], lower case, no path), or null. */
export function normalizeOrigin(value) {
  try {
    const url = new URL(String(value ?? '').trim());
    return url.origin === 'null' ? null : url.origin.toLowerCase();
  } catch {
    return null;
  }
}

/** `value` as a minimum pace in ms (a whole number from 0 to 60000), or null. */
export function checkMinPace(value) {
  return Number.isInteger(value) && value >= 0 && value <= MAX_MIN_PACE_MS ? value : null;
}

export const isVintedOrigin = (origin) => VINTED_ORIGINS.includes(origin);
export const isLoopbackOrigin = (origin) => typeof origin === 'string' && LOOPBACK.test(origin);

/** The settings with defaults filled in; `configured` is false without a token. */
export async function loadSettings() {
  const stored = await chrome.storage.local.get([...SETTING_KEYS, MIN_PACE_KEY]);
  const origin = normalizeOrigin(stored.vintedOrigin);
  const settings = {
    bridgePort: checkPort(stored.bridgePort) ?? DEFAULT_PORT,
    pairingToken: typeof stored.pairingToken === 'string' ? stored.pairingToken.trim() : '',
    vintedOrigin: origin && (isVintedOrigin(origin) || isLoopbackOrigin(origin)) ? origin : DEFAULT_ORIGIN,
    minPaceMs: checkMinPace(stored[MIN_PACE_KEY]) ?? MIN_PACE_MS,
  };
  settings.configured = settings.pairingToken !== '';
  return settings;
}

/**
 * Check and store settings edited by the seller; throws an Error whose message names the
 * bad field. Only the Vinted domains are accepted as vintedOrigin here, except the
 * value already stored (a loopback origin from provision.json stays as it is).
 * Answers true when a setting changed (storage.onChanged then fires).
 */
export async function saveSettings(values) {
  const current = await loadSettings();
  const port = checkPort(values.bridgePort);
  if (port === null) throw new Error('The port must be a number between 1024 and 65535.');
  const token = String(values.pairingToken ?? '').trim();
  if (/\s/.test(token)) throw new Error('The pairing token cannot contain spaces.');
  const origin = normalizeOrigin(values.vintedOrigin);
  if (!origin || !(isVintedOrigin(origin) || origin === current.vintedOrigin)) {
    throw new Error('Choose one of the Vinted sites in the list.');
  }
  await chrome.storage.local.set({ bridgePort: port, pairingToken: token, vintedOrigin: origin });
  return port !== current.bridgePort || token !== current.pairingToken || origin !== current.vintedOrigin;
}

/** The valid keys of a provision.json object (anything else is ignored). */
export function provisionValues(data) {
  const values = {};
  if (!data || typeof data !== 'object') return values;
  const port = checkPort(data.bridgePort);
  if (port !== null) values.bridgePort = port;
  if (typeof data.pairingToken === 'string' && data.pairingToken.trim()) {
    values.pairingToken = data.pairingToken.trim();
  }
  const origin = normalizeOrigin(data.vintedOrigin);
  if (origin && (isVintedOrigin(origin) || isLoopbackOrigin(origin))) values.vintedOrigin = origin;
  const minPace = checkMinPace(data.minPaceMs);
  if (minPace !== null) values[MIN_PACE_KEY] = minPace;
  return values;
}

/**
 * Read provision.json next to the manifest (it may be absent) and store its keys when
 * its content differs from the one applied last. Answers true when settings changed.
 */
export async function applyProvision() {
  let text;
  try {
    const response = await fetch(chrome.runtime.getURL('provision.json'), { cache: 'no-store' });
    if (!response.ok) return false;
    text = await response.text();
  } catch {
    return false; // no provision.json: the seller fills in the options page
  }
  const { [PROVISION_MARK]: applied } = await chrome.storage.local.get(PROVISION_MARK);
  if (applied === text) return false;
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    console.warn('[marketdesk] provision.json is not JSON; ignored');
    return false;
  }
  const values = provisionValues(data);
  await chrome.storage.local.set({ ...values, [PROVISION_MARK]: text });
  // a provision.json without minPaceMs restores the normal pace
  if (!(MIN_PACE_KEY in values)) await chrome.storage.local.remove(MIN_PACE_KEY);
  console.info('[marketdesk] settings taken from provision.json:', Object.keys(values).join(', ') || 'none');
  return Object.keys(values).length > 0;
}
