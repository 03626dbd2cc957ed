// util.js - small pure helpers shared by the modules (no chrome.*, no clock).

/** True for a plain JSON object (not null, not an array). */
export const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** `value` as text; null and undefined become ''. */
export const text = (value) => (typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value));

/** `value` as text, or null when it is null, undefined or ''. */
export const optionalText = (value) => (value === null || value === undefined || value === '' ? null : String(value));
