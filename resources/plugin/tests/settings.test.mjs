// settings.test.mjs - src/settings.js: defaults, the options page's checks, and
// provision.json (its test-only keys: a loopback vintedOrigin and minPaceMs).

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import {
  DEFAULT_ORIGIN, DEFAULT_PORT, MIN_PACE_KEY, VINTED_ORIGINS, applyProvision, checkMinPace, checkPort, loadSettings, normalizeOrigin,
  provisionValues, saveSettings,
} from '../src/settings.js';
import { fakeChrome } from './fake-chrome.mjs';

let fake;
let provision = null; // the text of provision.json, or null when there is none
const savedFetch = globalThis.fetch;
const quiet = { info: console.info, warn: console.warn };

beforeEach(() => {
  fake = fakeChrome();
  globalThis.chrome = fake.chrome;
  provision = null;
  globalThis.fetch = async (url) => {
    assert.equal(url, 'chrome-extension://nggbgmffnjkfbingpahkmffmcokechho/provision.json');
    if (provision === null) throw new TypeError('Failed to fetch');
    return new Response(provision, { status: 200 });
  };
  console.info = () => {};
  console.warn = () => {};
});

afterEach(() => {
  delete globalThis.chrome;
  globalThis.fetch = savedFetch;
  Object.assign(console, quiet);
});

const stored = () => Object.fromEntries(fake.chrome.storage.local.data);

test('defaults: port 47615, vinted.fr, not configured, minimum pace 1000 ms', async () => {
  assert.deepEqual(await loadSettings(), {
    bridgePort: DEFAULT_PORT, pairingToken: '', vintedOrigin: DEFAULT_ORIGIN, minPaceMs: 1000, configured: false,
  });
  assert.equal(DEFAULT_PORT, 47615);
  assert.equal(DEFAULT_ORIGIN, 'https://www.vinted.fr');
});

test('value checks', () => {
  assert.equal(checkPort('47615'), 47615);
  assert.equal(checkPort(80), null);
  assert.equal(checkPort('70000'), null);
  assert.equal(checkPort('12a'), null);
  assert.equal(normalizeOrigin('HTTPS://www.Vinted.FR/catalog?x=1'), 'https://www.vinted.fr');
  assert.equal(normalizeOrigin('nonsense'), null);
  assert.equal(checkMinPace(0), 0);
  assert.equal(checkMinPace(60000), 60000);
  for (const bad of [-1, 0.5, '0', 60001, null, undefined, Number.NaN]) assert.equal(checkMinPace(bad), null, String(bad));
  assert.equal(VINTED_ORIGINS.length, 23);
});

test('the options page: Vinted sites only, never minPaceMs', async () => {
  assert.equal(await saveSettings({ bridgePort: '47616', pairingToken: ' tok ', vintedOrigin: 'https://www.vinted.de/', minPaceMs: 0 }), true);
  assert.deepEqual(stored(), { bridgePort: 47616, pairingToken: 'tok', vintedOrigin: 'https://www.vinted.de' });
  assert.equal((await loadSettings()).minPaceMs, 1000);
  assert.equal(await saveSettings({ bridgePort: 47616, pairingToken: 'tok', vintedOrigin: 'https://www.vinted.de' }), false);
  await assert.rejects(saveSettings({ bridgePort: 47616, pairingToken: 'tok', vintedOrigin: 'http://127.0.0.1:8000' }), /Vinted sites/);
  await assert.rejects(saveSettings({ bridgePort: 1, pairingToken: 'tok', vintedOrigin: DEFAULT_ORIGIN }), /port/);
  await assert.rejects(saveSettings({ bridgePort: 47615, pairingToken: 'a b', vintedOrigin: DEFAULT_ORIGIN }), /spaces/);
});

test('provision.json keys: a loopback origin and minPaceMs are accepted there', () => {
  assert.deepEqual(provisionValues({ bridgePort: 40000, pairingToken: ' t ', vintedOrigin: 'http://127.0.0.1:8123', minPaceMs: 0, other: 1 }), {
    bridgePort: 40000, pairingToken: 't', vintedOrigin: 'http://127.0.0.1:8123', [MIN_PACE_KEY]: 0,
  });
  assert.deepEqual(provisionValues({ bridgePort: 'x', pairingToken: '', vintedOrigin: 'https://evil.example', minPaceMs: -5 }), {});
  assert.deepEqual(provisionValues(null), {});
});

test('applyProvision stores the keys once per content; minPaceMs reaches the settings', async () => {
  assert.equal(await applyProvision(), false, 'no provision.json');
  provision = JSON.stringify({ bridgePort: 40001, pairingToken: 'tok', vintedOrigin: 'http://127.0.0.1:8123', minPaceMs: 0 });
  assert.equal(await applyProvision(), true);
  assert.deepEqual(await loadSettings(), {
    bridgePort: 40001, pairingToken: 'tok', vintedOrigin: 'http://127.0.0.1:8123', minPaceMs: 0, configured: true,
  });
  // the seller edits the port; the same file does not undo it
  await saveSettings({ bridgePort: 40002, pairingToken: 'tok', vintedOrigin: 'http://127.0.0.1:8123' });
  assert.equal(await applyProvision(), false);
  assert.equal((await loadSettings()).bridgePort, 40002);
  // a new file without minPaceMs restores the normal pace
  provision = JSON.stringify({ bridgePort: 40003, pairingToken: 'tok2' });
  assert.equal(await applyProvision(), true);
  const settings = await loadSettings();
  assert.equal(settings.minPaceMs, 1000);
  assert.equal(MIN_PACE_KEY in stored(), false);
  assert.equal(settings.pairingToken, 'tok2');
  provision = 'not json';
  assert.equal(await applyProvision(), false);
});
