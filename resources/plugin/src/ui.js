// ui.js - words for the popup and the options page: the connection state and the Vinted
// login as the service worker reports them ({type: 'getState'}).

/** {label, tone, hint} for the connection part of a state object. */
export function describeConnection(state) {
  const seconds = state.retryAt ? Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)) : null;
  switch (state.connection) {
    case 'connected':
      return { label: 'Connected to Marketdesk', tone: 'good', hint: state.detail };
    case 'connecting':
      return { label: 'Connecting...', tone: 'busy', hint: `port ${state.port}` };
    case 'waiting':
      return {
        label: 'Not connected',
        tone: 'bad',
        hint: `${state.detail || 'Marketdesk is not reachable'}; is the program running? Next try in ${seconds ?? '?'} s.`,
      };
    case 'refused':
      return { label: 'Refused: wrong pairing token', tone: 'bad', hint: `${state.detail}. Copy the token from Marketdesk into the options, then press Connect.` };
    case 'replaced':
      return { label: 'Another browser is connected', tone: 'warn', hint: 'Marketdesk talks to one browser at a time. Press Connect to use this one.' };
    case 'not_configured':
      return { label: 'Not configured', tone: 'warn', hint: 'Open the options and enter the pairing token shown in Marketdesk (Settings).' };
    default:
      return { label: state.connection ?? 'Unknown', tone: 'busy', hint: state.detail ?? '' };
  }
}

/** One line about the Vinted login. */
export function describeVinted(state) {
  const domain = state.vintedOrigin ? new URL(state.vintedOrigin).host : 'Vinted';
  const vinted = state.vinted;
  if (!vinted) return `${domain}: not seen yet (open a Vinted tab)`;
  if (!vinted.logged_in) return `${vinted.domain ?? domain}: logged out - log in to Vinted in this browser`;
  return `${vinted.domain ?? domain}: logged in as ${vinted.login ?? `user ${vinted.user_id}`}`;
}

/** One line about a running back-off, or ''. */
export function describeBackoff(state) {
  const backoff = state.backoff;
  if (!backoff) return '';
  const minutes = Math.ceil(backoff.retry_after / 60);
  const why = backoff.code === 'challenge' ? 'Vinted showed a security check' : 'Vinted asked to slow down';
  return `${why}: pausing Vinted requests for about ${minutes} min.`;
}

/** Ask the service worker for its state (null when it does not answer). */
export async function fetchState(type = 'getState') {
  try {
    return await chrome.runtime.sendMessage({ type });
  } catch {
    return null;
  }
}
