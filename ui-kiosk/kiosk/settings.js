// Settings, behind the admin PIN: the video hours of each doctor (create, edit,
// delete; the server's refusal shown as it says it), the devices the appliance uses,
// network and cloud, and the software version.
const $ = (id) => document.getElementById(id);
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const TIMINGS = '/api/video-consultations/timings';

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
    await Promise.all([this.loadTimings(), this.status()]);
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
    const button = $('timing-save');
    button.setAttribute('aria-busy', 'true');
    try {
      if (this.editing) await this.app.api.put(`${TIMINGS}/${this.editing.id}`, body, this.token);
      else await this.app.api.post(TIMINGS, body, this.token);
      this.edit(null);
      this.app.toast('Video hours saved.', 'info');
      await this.loadTimings();
    } catch (err) {
      this.error(err.message);
    } finally {
      button.removeAttribute('aria-busy');
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
    const pick = (v) => (v && typeof v === 'object' ? v.name || JSON.stringify(v) : v ?? 'not reported here (consultctl hw lists it)');
    facts($('device-facts'), [
      ['Room camera', h.camera ? cameraText(h) : 'not reported yet'],
      ['Video encoder', h.encoder ?? 'none works on this box'],
      ['Microphone', pick(h.microphone)],
      ['Speaker', pick(h.speaker)],
      ['Content camera', pick(h.content_camera ?? 'none configured')],
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
  }
}
