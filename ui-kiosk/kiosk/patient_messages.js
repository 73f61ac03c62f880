// Settings' "How patients hear from the clinic" card (admin): find a patient by name and
// choose SMS, email, both or nothing for them, or leave them on the clinic's default.
// On a box paired with the clinic cloud the choice belongs to the clinic system: it is
// shown, not changed here. Only whether SMS or email can reach a patient is shown, never
// their number or address.
import { busy } from '/kiosk/busy.js';

const $ = (id) => document.getElementById(id);
const LIST = '/api/patients';
const CHOICES = { sms: 'SMS (email as backup)', email: 'Email (SMS as backup)', both: 'SMS and email', none: 'No messages' };
const SEARCH_DELAY_MS = 250;

export class PatientMessages {
  constructor(app, token) {
    this.app = app;
    this.token = token;
    this.timer = 0;
    this.run = 0;
    $('pm-search').addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load(), SEARCH_DELAY_MS);
    });
    $('pm-form').addEventListener('submit', (e) => { e.preventDefault(); this.load(); });
  }

  problem(text) {
    $('pm-error').textContent = text;
    $('pm-error').hidden = !text;
  }

  async load() {
    const run = ++this.run;
    this.problem('');
    const q = $('pm-search').value.trim();
    try {
      const r = await this.app.api.get(`${LIST}?q=${encodeURIComponent(q)}&limit=20`, this.token());
      if (run === this.run) this.fill(r);
    } catch (e) {
      if (run === this.run) this.problem(e.message || 'The patients could not be read.');
    }
  }

  fill(r) {
    const fallback = CHOICES[r.default] || r.default;
    $('pm-default').textContent = `Patients without a choice of their own get the clinic's default: ${fallback}.`;
    $('pm-managed').hidden = r.editable;
    const ol = $('pm-list');
    ol.replaceChildren();
    if (!r.patients.length) {
      const li = document.createElement('li');
      li.textContent = 'No patient by that name.';
      ol.append(li);
    }
    for (const p of r.patients) ol.append(this.row(p, r.editable, fallback));
  }

  row(p, editable, fallback) {
    const li = document.createElement('li');
    li.className = 'timing patient-choice';
    li.dataset.patient = p.id;
    const label = document.createElement('label');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.name;
    const select = document.createElement('select');
    select.disabled = !editable;
    const add = (value, text) => {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      select.append(o);
    };
    add('', `Clinic default (${fallback})`);
    for (const [value, text] of Object.entries(CHOICES)) add(value, text);
    select.value = p.notify_via || '';
    label.append(name, select);
    const reach = document.createElement('span');
    reach.className = 'muted';
    const missing = [!p.reachable.sms && 'no mobile number', !p.reachable.email && 'no email address'].filter(Boolean);
    reach.textContent = missing.length ? `(${missing.join(', ')})` : '';
    const note = document.createElement('span');
    note.className = 'muted';
    note.setAttribute('role', 'status');
    li.append(label, reach, note);
    select.addEventListener('change', () => this.save(p, select, note));
    return li;
  }

  async save(p, select, note) {
    this.problem('');
    note.textContent = '';
    const choice = select.value || null;
    try {
      const r = await busy(select, () => this.app.api.put(`${LIST}/${p.id}/notifications`, { notify_via: choice }, this.token()));
      p.notify_via = r.notify_via;
      note.textContent = 'Saved.';
    } catch (e) {
      select.value = p.notify_via || '';
      this.problem(`${p.name}: ${e.message || 'the choice could not be saved.'}`);
    }
  }
}
