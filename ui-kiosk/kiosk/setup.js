// The first-start screen, shown instead of the sign-in while the box has no admin PIN
// (clinic IT gave it no provisioning file): choose the admin PIN (twice) on the screen's
// own pad, pick the time zone, see the network and the clinic cloud, and pair with the
// clinic cloud by the code clinic IT made for this box. Then the sign-in.
import { busy } from '/kiosk/busy.js';

const $ = (id) => document.getElementById(id);
const SETUP = '/api/kiosk/setup';
// The pairing code's alphabet: no 0/O or 1/I (cloud/migrations/0005_pairing_codes.sql).
const CODE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

export class Setup {
  constructor(app, { show, done }) {
    this.app = app;
    this.show = show;
    this.done = done;
    this.field = $('setup-pin');
    for (const input of [$('setup-pin'), $('setup-pin-again')])
      input.addEventListener('focus', () => { this.field = input; });
    for (const b of document.querySelectorAll('[data-setup-digit]'))
      b.addEventListener('click', () => {
        if (this.field.value.length < 8) this.field.value += b.dataset.setupDigit;
        if (this.field === $('setup-pin') && this.field.value.length === 8) this.field = $('setup-pin-again');
      });
    $('setup-clear').addEventListener('click', () => { this.field.value = ''; });
    $('setup-next').addEventListener('click', () => { this.field = $('setup-pin-again'); $('setup-pin-again').focus(); });
    $('setup-finish').addEventListener('click', () => this.finish());
    const pad = $('setup-code-pad');
    for (const ch of CODE_ALPHABET) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = b.dataset.codeKey = ch;
      b.addEventListener('click', () => this.typeCode(ch));
      pad.append(b);
    }
    $('setup-code-delete').addEventListener('click', () => {
      const raw = $('setup-code').value.replace(/-/g, '');
      this.showCode(raw.slice(0, -1));
    });
    $('setup-pair-open').addEventListener('click', () => this.openPairing(true));
    $('setup-pair-cancel').addEventListener('click', () => this.openPairing(false));
    $('setup-pair-go').addEventListener('click', () => this.pair());
  }

  // The code as clinic IT reads it out: XXXXX-XXXXX.
  showCode(raw) {
    $('setup-pair-error').hidden = true;
    $('setup-code').value = raw.length > 5 ? raw.slice(0, 5) + '-' + raw.slice(5) : raw;
  }

  typeCode(ch) {
    const raw = $('setup-code').value.replace(/-/g, '');
    if (raw.length < 10) this.showCode(raw + ch);
  }

  openPairing(open) {
    $('setup-pair').hidden = !open;
    $('setup-pair-error').hidden = true;
    if (open) this.showCode('');
  }

  async pair() {
    const code = $('setup-code').value;
    const error = $('setup-pair-error');
    if (code.replace(/-/g, '').length !== 10) {
      error.hidden = false;
      error.textContent = 'The code has 10 letters and digits.';
      return;
    }
    try {
      await busy($('setup-pair-go'), () => this.app.api.post(SETUP + '/pair', { code }, null));
    } catch (err) {
      error.hidden = false;
      error.textContent = err.message;
      return;
    }
    this.openPairing(false);
    this.app.toast('Paired with the clinic cloud: today\u2019s appointments come down now.', 'info');
    this.showCloud(true);
  }

  // The clinic cloud's state, and the way to pair when the box knows its clinic's project.
  showCloud(available) {
    this.app.api.get('/api/system/cloud', null).then((c) => {
      $('setup-cloud').textContent = c.enabled
        ? `Paired with ${c.url}.`
        : available
          ? 'Not paired with the clinic cloud yet: pair it with the code clinic IT made for this appliance.'
          : 'Not paired with the clinic cloud yet: clinic IT pairs it with a provisioning file on the boot partition, or with consultctl pair.';
      $('setup-pair-open').hidden = c.enabled || !available;
    }).catch(() => { $('setup-cloud').textContent = 'The clinic cloud state is not known yet.'; });
  }

  // Shows the setup screen when the box needs it; true when it does. While consultd is
  // not answering (it starts, or restarts) it asks again: a box that needs setting up
  // must not show a sign-in nobody can use.
  async check() {
    let state;
    for (;;) {
      try {
        state = await this.app.api.get(SETUP, null);
        break;
      } catch (err) {
        if (err.status !== 0) return false;   // refused: the sign-in, as before
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
    }
    if (!state.needed) return false;
    this.render(state);
    this.show('setup');
    return true;
  }

  render(state) {
    const zones = $('setup-zone');
    zones.replaceChildren();
    for (const z of state.time_zones.length ? state.time_zones : [state.time_zone]) {
      const o = document.createElement('option');
      o.value = o.textContent = z;
      o.selected = z === state.time_zone;
      zones.append(o);
    }
    const net = state.network;
    $('setup-network').textContent = net.online
      ? 'Connected: ' + net.addresses.map((a) => `${a.address} (${a.interface})`).join(', ')
      : 'No network yet: plug in the network cable. Calls with patients need it; setup does not.';
    $('setup-network').dataset.level = net.online ? 'ok' : 'warn';
    this.showCloud(Boolean(state.pairing && state.pairing.available && !state.pairing.paired));
  }

  async finish() {
    const pin = $('setup-pin').value, again = $('setup-pin-again').value;
    const error = $('setup-error');
    error.hidden = false;
    if (!/^[0-9]{4,8}$/.test(pin)) { error.textContent = 'The admin PIN has 4 to 8 digits.'; return; }
    if (pin !== again) { error.textContent = 'The two PINs differ: type it again.'; $('setup-pin-again').value = ''; return; }
    try {
      await busy($('setup-finish'), () => this.app.api.post(SETUP, { admin_pin: pin, time_zone: $('setup-zone').value }, null));
    } catch (err) {
      error.textContent = err.message;
      return;
    }
    $('setup-pin').value = $('setup-pin-again').value = '';
    error.hidden = true;
    this.app.toast('Set up. Sign in to Settings with the admin PIN to add doctors\u2019 PINs.', 'info');
    this.done();
  }
}
