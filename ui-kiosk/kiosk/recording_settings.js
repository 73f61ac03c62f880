// Settings' Recordings card (admin): the clinic's recording settings, in force at once,
// and the recordings on the appliance with Delete for a deletion on request (the row
// stays, saying who deleted it and why; the media is gone).
import { busy } from '/kiosk/busy.js';

const $ = (id) => document.getElementById(id);
const SETTINGS = '/api/system/recording';
const LIST = '/api/recordings';
const STATES = {
  recording: 'recording now', paused: 'call still open', composing: 'being prepared', ready: 'ready',
  failed: 'failed', deleted: 'deleted',
};

export class RecordingSettings {
  constructor(app, token) {
    this.app = app;
    this.token = token;
    $('recording-form').addEventListener('submit', (e) => { e.preventDefault(); this.save(); });
  }

  async load() {
    $('rec-error').hidden = true;
    try {
      this.fill(await this.app.api.get(SETTINGS, this.token()));
      await this.list();
    } catch (e) {
      this.problem(e.message || 'The recording settings could not be read.');
    }
  }

  fill(s) {
    $('rec-enabled').checked = !!s.enabled;
    $('rec-retention').value = s.retention_days;
    $('rec-withdrawal').value = s.on_withdrawal;
    $('rec-patient').checked = !!s.include_patient;
  }

  problem(text) {
    $('rec-error').textContent = text;
    $('rec-error').hidden = !text;
  }

  async save() {
    this.problem('');
    const body = {
      enabled: $('rec-enabled').checked, retention_days: Number($('rec-retention').value),
      on_withdrawal: $('rec-withdrawal').value, include_patient: $('rec-patient').checked,
    };
    try {
      const r = await busy($('rec-save'), () => this.app.api.put(SETTINGS, body, this.token()));
      this.fill(r);
      $('rec-message').textContent = r.message || 'Saved.';
    } catch (e) {
      this.problem(e.message || 'The settings could not be saved.');
    }
  }

  async list() {
    const r = await this.app.api.get(LIST, this.token());
    const ol = $('rec-list');
    ol.replaceChildren();
    if (!r.recordings.length) {
      const li = document.createElement('li');
      li.textContent = 'No recordings.';
      ol.append(li);
    }
    for (const rec of r.recordings) {
      const li = document.createElement('li');
      li.className = 'timing';
      const what = document.createElement('span');
      const when = new Date(rec.started_at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
      what.textContent = `${rec.patient || 'Patient'} · ${when} · ${STATES[rec.state] || rec.state}` +
        (rec.state === 'deleted' && rec.delete_reason ? ` (${rec.delete_reason})` : '');
      li.append(what);
      if (rec.state !== 'deleted' && rec.state !== 'recording') {
        const del = document.createElement('button');
        del.type = 'button';
        del.textContent = 'Delete';
        del.className = 'danger';
        del.setAttribute('aria-label', `Delete the recording of ${rec.patient || 'this patient'}, ${when}`);
        del.addEventListener('click', () => this.remove(rec, when));
        li.append(del);
      }
      ol.append(li);
    }
  }

  async remove(rec, when) {
    if (!(await this.app.confirm(`Delete the recording of ${rec.patient || 'this patient'} (${when})? ` +
      'The video cannot be brought back; the record that it existed stays.', 'Delete recording'))) return;
    try {
      await this.app.api.call('DELETE', `/api/video-consultations/sessions/${rec.session_id}/recording`,
        { reason: 'deleted on request from the kiosk' }, this.token());
      await this.list();
    } catch (e) {
      this.problem(e.message || 'The recording could not be deleted.');
    }
  }
}
