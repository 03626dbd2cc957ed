// tabs.js - the Vinted tab the requests run in: one whose URL origin equals the
// configured vintedOrigin (compared in JS, so loopback origins with ports work), or a
// background tab opened for the purpose. Also runs page.js in it.
// No "tabs" permission: the host permissions let tabs.query show the URL of Vinted tabs
// (other tabs have none, and never match); create, get, reload and the status of
// onUpdated need no permission.

import { ActionError, ERR } from '../errors.js';
import { vintedFetch } from './page.js';

/** How long a tab may take to load before the call gives up with no_tab. */
export const TAB_LOAD_MS = 30000;

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** A tab showing `origin`, preferring loaded, not discarded ones; or null. */
export async function findVintedTab(origin) {
  const tabs = await chrome.tabs.query({});
  const matching = tabs.filter((tab) => originOf(tab.url || tab.pendingUrl || '') === origin);
  const rank = (tab) => (tab.discarded ? 2 : 0) + (tab.status === 'complete' ? 0 : 1);
  matching.sort((a, b) => rank(a) - rank(b));
  return matching[0] ?? null;
}

function waitComplete(tabId, timeoutMs) {
  return new Promise((resolve, reject) => {
    const done = (error) => {
      clearTimeout(timer);
      chrome.tabs.onUpdated.removeListener(onUpdated);
      chrome.tabs.onRemoved.removeListener(onRemoved);
      if (error) reject(error);
      else resolve(tabId);
    };
    const onUpdated = (id, change) => {
      if (id === tabId && change.status === 'complete') done();
    };
    const onRemoved = (id) => {
      if (id === tabId) done(new ActionError(ERR.NO_TAB, 'The Vinted tab was closed while loading'));
    };
    const timer = setTimeout(() => done(new ActionError(ERR.NO_TAB, 'The Vinted tab did not finish loading in time')), timeoutMs);
    chrome.tabs.onUpdated.addListener(onUpdated);
    chrome.tabs.onRemoved.addListener(onRemoved);
    // it may have completed before the listener was added
    chrome.tabs.get(tabId).then((tab) => {
      if (tab.status === 'complete' && tab.url && !tab.url.startsWith('about:')) done();
    }, () => done(new ActionError(ERR.NO_TAB, 'The Vinted tab went away')));
  });
}

/**
 * The id of a loaded Vinted tab. With `open`, a missing one is opened in the background
 * (no_tab when that fails or takes longer than `timeoutMs`); without, null.
 */
export async function vintedTab(origin, { open = true, timeoutMs = TAB_LOAD_MS } = {}) {
  let tab = await findVintedTab(origin);
  if (!open) return tab && tab.status === 'complete' && !tab.discarded ? tab.id : null;
  try {
    if (!tab) {
      console.info('[marketdesk] opening a Vinted tab at', origin);
      tab = await chrome.tabs.create({ url: `${origin}/`, active: false });
    } else if (tab.discarded) {
      await chrome.tabs.reload(tab.id);
    }
  } catch (error) {
    throw new ActionError(ERR.NO_TAB, `No Vinted tab could be opened (${error.message})`);
  }
  if (tab.status === 'complete' && !tab.discarded) return tab.id;
  return waitComplete(tab.id, Math.max(1000, timeoutMs));
}

/** Run one Vinted request (see page.js) in tab `tabId`; the page's answer, never throws. */
export async function runInTab(tabId, request) {
  try {
    const [injection] = await chrome.scripting.executeScript({
      target: { tabId },
      world: 'MAIN',
      func: vintedFetch,
      args: [request],
    });
    if (!injection || injection.result === undefined || injection.result === null) {
      return { networkError: 'the Vinted tab did not answer', aborted: false, tabLost: true };
    }
    return injection.result;
  } catch (error) {
    return { networkError: `the Vinted tab could not run the request: ${error.message}`, aborted: false, tabLost: true };
  }
}
