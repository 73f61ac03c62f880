// /admin/reports: the Reports screen for a manager's browser on the clinic's network.
// Nothing is shown until the admin PIN is accepted (the kiosk's own sign-in API, its
// lockouts, a reports-only token kept in memory only); signing out or an expired
// token takes every number off the page again.
import { Api } from '/kiosk/api.js';
import { busy } from '/kiosk/busy.js';
import { Reports } from '/kiosk/reports.js';

const $ = (id) => document.getElementById(id);
let token = null;
const api = new Api(null, () => signedOut('The sign-in has expired. Please sign in again.'));
const reports = new Reports($('reports'), { api, token: () => token, onSignedOut: () => signedOut('The sign-in has expired. Please sign in again.') });

function problem(text) {
  $('signin-error').textContent = text;
  $('signin-error').hidden = !text;
}

function signedOut(why = '') {
  token = null;
  reports.clear();
  $('reports').hidden = true;
  $('sign-out').hidden = true;
  $('signin').hidden = false;
  $('pin').value = '';
  problem(why);
  $('pin').focus();
}

$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  problem('');
  const pin = $('pin').value;
  $('pin').value = '';
  try {
    const r = await busy($('pin-ok'), () => api.post('/api/kiosk/admin-sign-in', { pin, scope: 'reports' }, null));
    token = r.token;
    $('signin').hidden = true;
    $('sign-out').hidden = false;
    $('reports').hidden = false;
    await reports.load();
  } catch (err) {
    problem(err.message);
    $('pin').focus();
  }
});

$('sign-out').addEventListener('click', () => {
  if (token) api.post('/api/kiosk/sign-out', { reason: 'reports closed' }, token).catch(() => {});
  signedOut();
});

signedOut();
