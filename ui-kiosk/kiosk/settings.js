// Settings, behind the admin PIN: the video hours of each doctor (create, edit,
// delete; the server's refusal shown as it says it), the camera, content camera,
// microphone and speaker (chosen here, with a still of the camera about twice a second
// while Settings is open), recordings (recording_settings.js), how each patient hears
// from the clinic (patient_messages.js), reports (reports.js),
// the data partition's recovery key (recovery_key.js), network and cloud, the
// software version, the fleet report this box sends the clinic cloud and an update from a
// USB stick (update_stick.js).
import { busy } from '/kiosk/busy.js';
import { PatientMessages } from '/kiosk/patient_messages.js';
import { RecordingSettings } from '/kiosk/recording_settings.js';
import { RecoveryKey } from '/kiosk/recovery_key.js';
import { Reports } from '/kiosk/reports.js';
import { UpdateStick } from '/kiosk/update_stick.js';

const $ = (id) => document.getElementById(id);
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const TIMINGS = '/api/video-consultations/timings';
const DEVICES = '/api/system/devices';
const PREVIEW = '/api/system/camera/preview.jpg';
const PREVIEW_EVERY_MS = 500;
// [request field, select id, device list, the choices offered before the devices]
const PICKERS = [
  ['camera', 'device-camera', 'cameras', [['auto', 'Automatic (first camera found)'], ['test', 'Test image']]],
  ['content_camera', 'device-content', 'cameras', [['none', 'None'], ['auto', 'Automatic (another camera)'], ['test', 'Test image']]],
  ['microphone', 'device-microphone', 'microphones', [['auto', 'Automatic (first microphone found)'], ['test', 'Test tone']]],
  ['speaker', 'device-speaker', 'speakers', [['auto', 'Automatic (first speaker found)'], ['none', 'None']]],
];
const PREVIEW_PROBLEMS = {
  camera_in_use: 'The camera is in use by a call; the preview comes back when the call ends.',
  no_content_camera: 'No content camera is chosen.',
  probing: 'The appliance is still looking for its cameras.',
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function facts(dl, rows) {
  dl.replaceChildren();
  for (const [label, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dl.append(dt, dd);
  }
}

function duration(seconds) {
  if (!Number.isInteger(seconds) || seconds < 0) return 'unknown';
  if (seconds >= 86400) return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 60)} min`;
}

export function cameraText(h) {
  const camera = typeof h.camera === 'object' && h.camera ? h.camera : { name: h.camera };
  if (camera.test_source) return `${camera.name || 'test image'} (no camera found: the patient sees a test image)`;
  return camera.name || String(h.camera);
}

export class Settings {
  constructor(app) {
    this.app = app;
    this.editing = null;
    this.timings = [];
    $('timing-doctor').addEventListener('change', () => this.loadTimings());
    $('timing-form').addEventListener('submit', (e) => { e.preventDefault(); this.save(); });
    $('timing-cancel').addEventListener('click', () => this.edit(null));
    this.devices = null;
    this.which = 'camera';
    this.previewing = false;
    this.previewRun = 0;
    $('device-form').addEventListener('submit', (e) => { e.preventDefault(); this.saveDevices(); });
    for (const which of ['camera', 'content']) $(`preview-${which}`).addEventListener('click', () => this.previewOf(which));
    this.recordings = new RecordingSettings(app, () => this.token);
    this.patientMessages = new PatientMessages(app, () => this.token);
    this.reports = new Reports($('reports'), { api: app.api, token: () => this.token });
    this.recoveryKey = new RecoveryKey(app, () => this.token);
    this.updateStick = new UpdateStick(app, () => this.token);
  }

  get token() { return this.app.adminToken; }

  async show() {
    const select = $('timing-doctor');
    const current = select.value;
    select.replaceChildren();
    for (const d of this.app.doctors) {
      const o = document.createElement('option');
      o.value = d.id;
      o.textContent = d.full_name;
      select.append(o);
    }
    if (current) select.value = current;
    this.edit(null);
    this.startPreview();
    await Promise.all([this.loadTimings(), this.loadDevices(), this.status(), this.recordings.load(), this.reports.load(),
      this.recoveryKey.load(), this.patientMessages.load(), this.updateStick.load()]);
  }

  // Leaving Settings: the preview stops (it also stops by itself on any other screen).
  hide() {
    this.previewing = false;
    this.reports.clear();
    this.recoveryKey.clear();
    this.updateStick.clear();
  }

  // ------------------------------------------------------------ devices

  async loadDevices() {
    try {
      this.fillDevices(await this.app.api.get(DEVICES, this.token));
    } catch (err) {
      this.deviceError(err.message);
    }
  }

  fillDevices(r) {
    this.devices = r;
    for (const [field, id, list, fixed] of PICKERS) {
      const select = $(id);
      select.removeAttribute('aria-invalid');
      select.replaceChildren();
      const add = (value, text) => {
        const o = document.createElement('option');
        o.value = value;
        o.textContent = text;
        select.append(o);
        return o;
      };
      for (const [value, text] of fixed) add(value, text);
      const configured = r.configured[field];
      let chosen = fixed.some(([value]) => value === configured) ? configured : null;
      for (const d of r.devices[list]) {
        const value = d.path || d.name;
        add(value, d.path && d.path !== d.name ? `${d.name} (${d.path})` : d.name);
        if (!chosen && (configured === d.name || configured === d.path)) chosen = value;
      }
      if (!chosen) add(chosen = configured, `${configured} (not found now)`);
      select.value = chosen;
      select.dataset.configured = select.value;
    }
    this.status();
  }

  deviceError(text, field) {
    $('device-error').textContent = text;
    $('device-error').hidden = !text;
    for (const [f, id] of PICKERS) {
      if (field && f === field) $(id).setAttribute('aria-invalid', 'true');
      else $(id).removeAttribute('aria-invalid');
    }
  }

  async saveDevices() {
    const body = {};
    for (const [field, id] of PICKERS) if ($(id).value !== $(id).dataset.configured) body[field] = $(id).value;
    this.deviceError('');
    if (!Object.keys(body).length) {
      $('device-message').textContent = 'Nothing changed.';
      return;
    }
    try {
      const r = await busy($('device-save'), () => this.app.api.put(DEVICES, body, this.token));
      this.fillDevices(r);
      $('device-message').textContent = r.message;
      this.app.toast(r.message, 'info');
    } catch (err) {
      $('device-message').textContent = '';
      this.deviceError(err.message, err.field);
    }
  }

  previewOf(which) {
    this.which = which;
    for (const w of ['camera', 'content']) $(`preview-${w}`).setAttribute('aria-pressed', String(w === which));
    $('device-preview').alt = `Live preview of the ${which === 'camera' ? 'room' : 'content'} camera`;
    this.startPreview();
  }

  startPreview() {
    if (this.previewing) return;
    this.previewing = true;
    this.previewLoop(++this.previewRun);
  }

  // One loop at a time: a loop left from an earlier visit to Settings ends when it wakes.
  async previewLoop(run) {
    while (this.previewing && run === this.previewRun && this.app.screen === 'settings' && this.token) {
      const started = Date.now();
      await this.refreshPreview();
      await sleep(Math.max(50, PREVIEW_EVERY_MS - (Date.now() - started)));
    }
    if (run === this.previewRun) this.previewing = false;
  }

  async refreshPreview() {
    const state = $('preview-state');
    const img = $('device-preview');
    let res;
    try {
      res = await fetch(`${PREVIEW}?which=${this.which}`, { headers: { Authorization: `Bearer ${this.token}` },
                                                           cache: 'no-store', signal: AbortSignal.timeout(8000) });
    } catch {
      if (this.previewing) state.textContent = 'No preview: the appliance is not answering.';
      return;
    }
    // Settings may have closed while this picture was on its way: it is not shown then.
    if (!this.previewing) return;
    if (res.ok) {
      const blob = await res.blob();
      if (!this.previewing) return;
      const url = URL.createObjectURL(blob);
      const old = this.previewUrl;
      this.previewUrl = url;
      img.src = url;
      img.hidden = false;
      if (old) URL.revokeObjectURL(old);
      state.textContent = '';
      return;
    }
    let error = {};
    try { error = (await res.json()).error || {}; } catch { /* no JSON body */ }
    if (error.code === 'preview_busy') return;   // the last one is still being made
    if (res.status === 401) { this.previewing = false; return; }
    if (res.status === 409 || res.status === 404) img.hidden = true;
    state.textContent = PREVIEW_PROBLEMS[error.code] || error.message || `No preview (${res.status}).`;
  }

  async loadTimings() {
    const doctor = $('timing-doctor').value;
    if (!doctor) return;
    try {
      const r = await this.app.api.get(`${TIMINGS}?doctor_id=${doctor}`, this.token);
      this.timings = r.timings.sort((a, b) => ((a.day_of_week + 6) % 7) - ((b.day_of_week + 6) % 7) || a.start_time.localeCompare(b.start_time));
      this.render();
    } catch (err) {
      this.error(err.message);
    }
  }

  render() {
    const list = $('timing-list');
    list.replaceChildren();
    for (const t of this.timings) {
      const li = document.createElement('li');
      li.className = 'timing' + (t.is_active ? '' : ' inactive');
      li.dataset.timing = t.id;
      const text = document.createElement('span');
      text.textContent = `${DAYS[t.day_of_week]} ${t.start_time}–${t.end_time}, ${t.slot_duration_minutes}-minute slots${t.is_active ? '' : ' (inactive)'}`;
      const edit = document.createElement('button');
      edit.type = 'button';
      edit.textContent = 'Edit';
      edit.setAttribute('aria-label', `Edit ${text.textContent}`);
      edit.addEventListener('click', () => this.edit(t));
      const del = document.createElement('button');
      del.type = 'button';
      del.textContent = 'Delete';
      del.setAttribute('aria-label', `Delete ${text.textContent}`);
      del.addEventListener('click', () => this.remove(t, text.textContent));
      li.append(text, edit, del);
      list.append(li);
    }
    if (!this.timings.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'No video hours yet for this doctor.';
      list.append(li);
    }
  }

  edit(t) {
    this.editing = t;
    this.error('');
    $('timing-form-title').textContent = t ? 'Change hours' : 'Add hours';
    $('timing-cancel').hidden = !t;
    $('timing-day').value = String(t ? t.day_of_week : 1);
    $('timing-start').value = t ? t.start_time : '09:00';
    $('timing-end').value = t ? t.end_time : '12:00';
    $('timing-slot').value = String(t ? t.slot_duration_minutes : 30);
    $('timing-active').checked = t ? !!t.is_active : true;
  }

  error(text) {
    $('timing-error').textContent = text;
    $('timing-error').hidden = !text;
  }

  async save() {
    const body = {
      doctor_id: $('timing-doctor').value,
      day_of_week: Number($('timing-day').value),
      start_time: $('timing-start').value.slice(0, 5),
      end_time: $('timing-end').value.slice(0, 5),
      slot_duration_minutes: Number($('timing-slot').value),
      is_active: $('timing-active').checked,
    };
    try {
      await busy($('timing-save'), () => this.editing
        ? this.app.api.put(`${TIMINGS}/${this.editing.id}`, body, this.token)
        : this.app.api.post(TIMINGS, body, this.token));
      this.edit(null);
      this.app.toast('Video hours saved.', 'info');
      await this.loadTimings();
    } catch (err) {
      this.error(err.message);
    }
  }

  async remove(t, label) {
    if (!(await this.app.confirm(`Delete these video hours? ${label}`, 'Delete'))) return;
    try {
      await this.app.api.del(`${TIMINGS}/${t.id}`, this.token);
      if (this.editing?.id === t.id) this.edit(null);
      await this.loadTimings();
    } catch (err) {
      this.error(err.message);
    }
  }

  async status() {
    const h = this.app.health || {};
    const d = this.devices || {};
    const inUse = (s) => (s ? `${s.name}${s.test_source && s.name !== 'none' ? ' (test source)' : ''}: ${s.reason}` : 'not reported yet');
    facts($('device-facts'), [
      ['Room camera now', d.camera ? inUse(d.camera) : h.camera ? cameraText(h) : 'not reported yet'],
      ['Content camera now', inUse(d.content_camera)],
      ['Microphone now', inUse(d.microphone)],
      ['Speaker now', inUse(d.speaker)],
      ['Video encoder', h.encoder ?? 'none works on this box'],
    ]);
    let turn = 'unknown';
    try {
      const ice = await this.app.api.get('/api/ice-servers', this.token);
      turn = ice.source === 'twilio' ? 'Twilio TURN in use' : `off: ${ice.ice_servers.length ? 'configured STUN servers' : 'no STUN/TURN servers'} (patients behind strict NAT may not connect)`;
    } catch { /* shown as unknown */ }
    const c = this.app.cloud || {};
    facts($('network-facts'), [
      ['Appliance', this.app.unreachable ? 'not answering' : 'answering'],
      ['Live updates', this.app.lobbyConnected ? 'connected' : 'reconnecting'],
      ['Cloud sync', c.enabled ? c.state : `off${c.off_reason ? ` (${c.off_reason})` : ''}`],
      ['Last pull', c.last_pull_at || '—'],
      ['Last push', c.last_push_at || '—'],
      ['Waiting to send', c.outbox_depth ?? '—'],
      ['Last cloud error', c.last_error || 'none'],
      ['Twilio (relay for patients\' video)', turn],
      ['SMS and email', 'consultctl status says whether they are on; when off, the kiosk shows each invite link with a QR code'],
    ]);
    facts($('software-facts'), [
      ['Version', h.version || '—'],
      ['Database schema', h.schema_version ?? '—'],
      ['Database', h.db || '—'],
    ]);
    await this.fleetStatus();
  }

  // The fleet report (GET /api/system/fleet-status): what this box tells the clinic cloud.
  async fleetStatus() {
    let s;
    try {
      s = await this.app.api.get('/api/system/fleet-status', this.token);
    } catch (err) {
      facts($('fleet-facts'), [['Fleet report', `not available: ${err.message}`]]);
      return;
    }
    const r = s.report || {};
    const f = r.failures_last_day || {};
    const slot = r.booted_slot == null ? 'none (not an A/B box)'
      : `${r.booted_slot} (${r.slot_marked_good == null ? 'marked good: unknown' : r.slot_marked_good ? 'marked good' : 'not marked good yet'})`;
    const update = r.last_update_result === 'none' ? 'never updated'
      : [r.last_update_result?.replace('_', ' '), r.last_update_version, r.last_update_at && `at ${r.last_update_at}`]
        .filter(Boolean).join(' ') + (r.last_update_reason ? `: ${r.last_update_reason}` : '');
    const sent = s.problem ? `not sent: ${s.problem}`
      : !s.last_queued_at ? 'not made yet'
        : `made at ${s.last_queued_at}, ${s.waiting_to_send ? 'waiting for the cloud' : 'sent'}`;
    facts($('fleet-facts'), [
      ['Booted slot', slot],
      ['Last update', update || '—'],
      ['Running for', `${duration(r.uptime_seconds)} (the box: ${duration(r.box_uptime_seconds)})`],
      ['Failures in the last day', `session start ${f.session_create ?? '?'}, media ${f.media ?? '?'}, webhooks refused `
        + `${f.webhook_refused ?? '?'}, status callbacks refused ${f.status_callbacks_refused ?? '?'}, SMS ${f.sms ?? '?'}`],
      ['Fleet report', sent],
    ]);
  }
}
