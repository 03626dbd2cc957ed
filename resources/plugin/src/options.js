// options.js - the options page: edit port, pairing token and Vinted site (only the
// manifest's Vinted domains), save (the worker reconnects on the storage change), and
// show the connection state.

import { VINTED_ORIGINS, loadSettings, saveSettings } from './settings.js';
import { describeBackoff, describeConnection, describeVinted, fetchState } from './ui.js';

const $ = (id) => document.getElementById(id);

async function fill() {
  const settings = await loadSettings();
  const origins = VINTED_ORIGINS.includes(settings.vintedOrigin) ? VINTED_ORIGINS : [...VINTED_ORIGINS, settings.vintedOrigin];
  $('origin').replaceChildren(...origins.map((origin) => {
    const option = document.createElement('option');
    option.value = origin;
    option.textContent = VINTED_ORIGINS.includes(origin) ? new URL(origin).host : `${origin} (set by provision.json)`;
    return option;
  }));
  $('origin').value = settings.vintedOrigin;
  $('port').value = settings.bridgePort;
  $('token').value = settings.pairingToken;
}

function say(text, tone) {
  $('message').textContent = text;
  $('message').className = tone;
}

$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const changed = await saveSettings({ bridgePort: $('port').value, pairingToken: $('token').value, vintedOrigin: $('origin').value });
    // a change reconnects through storage.onChanged; an unchanged save asks for it
    if (!changed) await fetchState('connect');
    say('Saved; connecting.', 'good');
  } catch (error) {
    say(error.message, 'bad');
  }
});

$('reveal').addEventListener('click', () => {
  const hidden = $('token').type === 'password';
  $('token').type = hidden ? 'text' : 'password';
  $('reveal').textContent = hidden ? 'Hide' : 'Show';
});

async function refresh() {
  const state = await fetchState();
  if (!state) return;
  const connection = describeConnection(state);
  $('state').textContent = connection.label;
  $('state').className = connection.tone;
  $('hint').textContent = connection.hint ?? '';
  $('vinted').textContent = describeVinted(state);
  $('backoff').textContent = describeBackoff(state);
}

fill();
refresh();
setInterval(refresh, 1000);
