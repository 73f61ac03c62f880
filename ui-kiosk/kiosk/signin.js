// The sign-in screen: the doctors who can sign in, and the PIN pad that takes a doctor's
// PIN or the admin PIN for Settings. A PIN is kept only until it is sent. What a good
// PIN opens is the caller's: `signedIn(reply, doctor)` or `openSettings(reply)`.
import { busy } from '/kiosk/busy.js';

const $ = (id) => document.getElementById(id);

export class SignIn {
  constructor(app, { show, signedIn, openSettings }) {
    this.app = app;
    this.show = show;
    this.signedIn = signedIn;
    this.openSettings = openSettings;
    for (const b of document.querySelectorAll('[data-digit]'))
      b.addEventListener('click', () => {
        if (app.pin.length < 8) app.pin += b.dataset.digit;
        this.renderPin();
      });
    $('pin-clear').addEventListener('click', () => { app.pin = ''; this.renderPin(); });
    $('pin-ok').addEventListener('click', () => this.submitPin());
    $('pin-back').addEventListener('click', () => this.closePin());
  }

  async loadDoctors() {
    const app = this.app;
    try {
      const r = await app.api.get('/api/kiosk/doctors', null);
      app.doctors = r.doctors;
      app.idleSeconds = r.idle_seconds || 300;
      const list = $('doctor-list');
      list.replaceChildren();
      for (const d of r.doctors) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = d.full_name;
        b.dataset.doctor = d.id;
        b.disabled = !d.has_pin;
        if (!d.has_pin) b.title = 'No PIN set: clinic IT runs consultctl set-pin';
        b.addEventListener('click', () => this.askPin({ doctor: d }));
        list.append(b);
      }
    } catch (err) {
      app.toast(err.message);
      setTimeout(() => this.loadDoctors(), 5000);
    }
  }

  // `target`: {doctor} for a doctor's sign-in, {admin: true} for Settings.
  askPin(target) {
    const app = this.app;
    app.pinFor = target;
    app.pin = '';
    $('pin-error').hidden = true;
    $('pin-for').textContent = target.admin ? 'Settings: enter the admin PIN' : `${target.doctor.full_name}: enter your PIN`;
    $('doctor-list').hidden = true;
    $('signin-title').hidden = true;
    $('pin-panel').hidden = false;
    this.renderPin();
    if (app.screen !== 'signin') {
      app.returnTo = app.screen;
      this.show('signin');
    }
  }

  closePin() {
    const app = this.app;
    app.pinFor = null;
    app.pin = '';
    $('pin-panel').hidden = true;
    $('doctor-list').hidden = false;
    $('signin-title').hidden = false;
    if (app.returnTo && app.token) this.show(app.returnTo);
    app.returnTo = null;
  }

  renderPin() {
    $('pin-dots').textContent = this.app.pin ? '●'.repeat(this.app.pin.length) : '—';
  }

  async submitPin() {
    const app = this.app;
    const target = app.pinFor;
    if (!target || app.pin.length < 4) {
      $('pin-error').textContent = 'A PIN has 4 to 8 digits.';
      $('pin-error').hidden = false;
      return;
    }
    const pin = app.pin;
    app.pin = '';
    this.renderPin();
    try {
      const r = await busy($('pin-ok'), () => target.admin
        ? app.api.post('/api/kiosk/admin-sign-in', { pin }, null)
        : app.api.post('/api/kiosk/sign-in', { doctor_id: target.doctor.id, pin }, null));
      $('pin-error').hidden = true;
      if (target.admin) this.openSettings(r);
      else this.signedIn(r, target.doctor);
    } catch (err) {
      $('pin-error').textContent = err.message;
      $('pin-error').hidden = false;
    }
  }
}
