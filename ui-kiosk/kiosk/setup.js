// The first-start screen, shown instead of the sign-in while the box has no admin PIN
// (clinic IT gave it no provisioning file): choose the admin PIN (twice) on the screen's
// own pad, pick the time zone, see the network and the clinic cloud. Then the sign-in.
import { busy } from '/kiosk/busy.js';

const $ = (id) => document.getElementById(id);
const SETUP = '/api/kiosk/setup';

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
    this.app.api.get('/api/system/cloud', null).then((c) => {
      $('setup-cloud').textContent = c.enabled
        ? `Paired with ${c.url}.`
        : 'Not paired with the clinic cloud yet: clinic IT pairs it with a provisioning file on the boot partition, or with consultctl pair.';
    }).catch(() => { $('setup-cloud').textContent = 'The clinic cloud state is not known yet.'; });
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
