// popup.js - fills popup.html from the service worker's state, refreshed every second;
// the Connect button asks the worker to reconnect (also after "replaced" or "refused").

import { describeBackoff, describeConnection, describeVinted, fetchState } from './ui.js';

const $ = (id) => document.getElementById(id);

function show(state) {
  if (!state) {
    $('state').textContent = 'The plugin does not answer';
    $('state').className = 'state bad';
    return;
  }
  const connection = describeConnection(state);
  $('state').textContent = connection.label;
  $('state').className = `state ${connection.tone}`;
  $('hint').textContent = connection.hint ?? '';
  $('vinted').textContent = describeVinted(state);
  $('backoff').textContent = describeBackoff(state);
  $('last').textContent = state.lastCall
    ? `Last action: ${state.lastCall.action} - ${state.lastCall.outcome} at ${new Date(state.lastCall.at).toLocaleTimeString()}`
    : '';
}

$('connect').addEventListener('click', async () => {
  $('connect').disabled = true;
  show(await fetchState('connect'));
  $('connect').disabled = false;
});

$('options').addEventListener('click', (event) => {
  event.preventDefault();
  chrome.runtime.openOptionsPage();
});

async function refresh() {
  show(await fetchState());
}

refresh();
setInterval(refresh, 1000);
