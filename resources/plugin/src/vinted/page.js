// page.js - the function run inside the Vinted tab (chrome.scripting.executeScript with
// world: 'MAIN'), so that the request is the page's own: same origin, the seller's
// cookies, the page's CSRF token. It is serialized by Chrome, so it must stay
// self-contained: no imports, no closures, no outer names. It never throws.

/**
 * @param {{method: string, path: string, json?: any, timeoutMs?: number,
 *   multipart?: {fields: [string, string][], file: {name, filename, contentType, base64}}}} req
 * @returns {Promise<{status, contentType, retryAfter, bodyText} | {networkError, aborted}>}
 */
export async function vintedFetch(req) {
  let timer = null;
  try {
    const headers = { accept: 'application/json' };
    const meta = document.querySelector('meta[name="csrf-token"]');
    const csrf = meta ? meta.getAttribute('content') : null;
    if (csrf) headers['x-csrf-token'] = csrf;
    const cookie = /(?:^|;\s*)anon_id=([^;]*)/.exec(document.cookie);
    if (cookie) headers['x-anon-id'] = decodeURIComponent(cookie[1]);
    let body;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.multipart) {
      body = new FormData();
      for (const [name, value] of req.multipart.fields) body.append(name, value);
      const file = req.multipart.file;
      const binary = atob(file.base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
      body.append(file.name, new Blob([bytes], { type: file.contentType }), file.filename);
    }
    const controller = new AbortController();
    if (req.timeoutMs > 0) timer = setTimeout(() => controller.abort(), req.timeoutMs);
    const response = await fetch(req.path, {
      method: req.method,
      headers,
      body,
      credentials: 'include',
      signal: controller.signal,
    });
    const bodyText = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type') || '',
      retryAfter: response.headers.get('retry-after'),
      bodyText,
    };
  } catch (error) {
    const aborted = Boolean(error && error.name === 'AbortError');
    return { networkError: String((error && error.message) || error), aborted };
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}
