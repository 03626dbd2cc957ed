// fake-chrome.mjs - a stand-in for the parts of `chrome` the plugin's modules use
// (tabs, scripting, storage, runtime), for the node unit tests. Not a test file itself.
//
// Every Vinted request the code under test sends through chrome.scripting.executeScript
// is recorded in `fake.requests` and answered by `fake.handler(request)`: return the page's
// answer ({status, contentType, retryAfter, bodyText} or {networkError, aborted}); throw
// to make executeScript itself fail (the tab went away).

/** A chrome.storage area kept in a Map. */
export function fakeStorageArea(initial = {}) {
  const data = new Map(Object.entries(initial));
  const pick = (keys) => {
    if (keys === undefined || keys === null) return Object.fromEntries(data);
    const list = typeof keys === 'string' ? [keys] : Array.isArray(keys) ? keys : Object.keys(keys);
    return Object.fromEntries(list.filter((key) => data.has(key)).map((key) => [key, structuredClone(data.get(key))]));
  };
  return {
    data,
    get: async (keys) => pick(keys),
    set: async (values) => {
      for (const [key, value] of Object.entries(values)) data.set(key, structuredClone(value));
    },
    remove: async (keys) => {
      for (const key of typeof keys === 'string' ? [keys] : keys) data.delete(key);
    },
  };
}

function fakeEvent() {
  const listeners = new Set();
  return {
    listeners,
    addListener: (fn) => listeners.add(fn),
    removeListener: (fn) => listeners.delete(fn),
    fire: (...args) => listeners.forEach((fn) => fn(...args)),
  };
}

/** A JSON answer of the page function (status 200 unless given). */
export const jsonAnswer = (json, status = 200, extra = {}) => ({
  status,
  contentType: 'application/json; charset=utf-8',
  retryAfter: null,
  bodyText: JSON.stringify(json),
  ...extra,
});

/** An HTML answer of the page function (a challenge page, say). */
export const htmlAnswer = (status = 403, bodyText = '<!doctype html><html><body>captcha</body></html>') => ({
  status,
  contentType: 'text/html; charset=utf-8',
  retryAfter: null,
  bodyText,
});

/**
 * A fake chrome. `tabs`: the open tabs ({id, url, status}); `canCreate`: whether
 * tabs.create succeeds (the new tab is complete at once).
 */
export function fakeChrome({ tabs = [{ id: 7, url: 'https://www.vinted.fr/catalog', status: 'complete' }], canCreate = true } = {}) {
  const fake = {
    tabs: tabs.map((tab) => ({ ...tab })),
    requests: [],
    tabCalls: [],
    handler: async () => jsonAnswer({}),
  };
  fake.chrome = {
    tabs: {
      query: async (info) => {
        fake.tabCalls.push(['query', info]);
        return fake.tabs.map((tab) => ({ ...tab }));
      },
      get: async (id) => {
        fake.tabCalls.push(['get', id]);
        const tab = fake.tabs.find((entry) => entry.id === id);
        if (!tab) throw new Error(`No tab with id: ${id}.`);
        return { ...tab };
      },
      create: async (props) => {
        fake.tabCalls.push(['create', props]);
        if (!canCreate) throw new Error('cannot create tabs');
        const tab = { id: 100 + fake.tabs.length, url: props.url, status: 'complete' };
        fake.tabs.push(tab);
        return { ...tab, status: 'loading' };
      },
      reload: async (id) => {
        fake.tabCalls.push(['reload', id]);
      },
      onUpdated: fakeEvent(),
      onRemoved: fakeEvent(),
    },
    scripting: {
      executeScript: async ({ target, world, func, args }) => {
        if (world !== 'MAIN') throw new Error('requests must run in the MAIN world');
        if (typeof func !== 'function') throw new Error('func must be a function');
        fake.requests.push({ tabId: target.tabId, ...args[0] });
        return [{ result: await fake.handler(args[0]) }];
      },
    },
    storage: { local: fakeStorageArea(), session: fakeStorageArea() },
    runtime: { id: 'nggbgmffnjkfbingpahkmffmcokechho', getURL: (path) => `chrome-extension://nggbgmffnjkfbingpahkmffmcokechho/${path}` },
  };
  return fake;
}
