// After a call: the consultation's facts and the doctor's notes. Typed notes are never
// lost without a word: leaving the screen (Back to Today, a patient arriving, signing
// out, the idle sign-out) saves them; when that fails they are kept on this kiosk as a
// draft, the doctor is told, and the draft comes back when the notes are opened again.
// Drafts are written as the doctor types (within half a second) to the kiosk browser's
// local storage, in its profile on the box's encrypted data partition, so a reload, a
// crashed browser or a restarted kiosk keeps them; saved notes leave it. The summary for
// the patient is kept the same way until it is sent. A draft shows only after the
// appliance has let this doctor open the consultation.
import { facts } from '/kiosk/settings.js';
import { clockTime } from '/kiosk/today.js';

const $ = (id) => document.getElementById(id);
const SESSIONS = '/api/video-consultations/sessions';
const at = () => new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

// Text typed and not saved, by session, in the kiosk profile's local storage
// ({text, at}); a draft nobody came back to for two weeks is dropped.
class Drafts {
  static KEEP_MS = 14 * 24 * 3600 * 1000;
  constructor(key) { this.key = key; }
  all() {
    try {
      const all = JSON.parse(localStorage.getItem(this.key) || '{}');
      if (!all || typeof all !== 'object' || Array.isArray(all)) return {};
      const fresh = {};
      for (const [session, d] of Object.entries(all)) {
        if (typeof d?.text === 'string' && Date.now() - d.at < Drafts.KEEP_MS) fresh[session] = d;
      }
      return fresh;
    } catch { return {}; }
  }
  get(session) { return this.all()[session]?.text; }
  set(session, text) { this.write({ ...this.all(), [session]: { text, at: Date.now() } }); }
  delete(session) {
    const all = this.all();
    delete all[session];
    this.write(all);
  }
  write(all) {
    try {
      if (Object.keys(all).length) localStorage.setItem(this.key, JSON.stringify(all));
      else localStorage.removeItem(this.key);
    } catch { /* storage full or off: the draft stays on screen, as before */ }
  }
}

export class AfterCall {
  constructor(app) {
    this.app = app;
    this.sessionId = null;
    this.patientName = '';
    this.saved = '';            // the notes as the appliance has them
    this.drafts = new Drafts('consult.notes-drafts');            // session → notes typed, not saved
    this.summaryDrafts = new Drafts('consult.summary-drafts');   // session → summary typed, not sent
    this.keepSoon = null;
    addEventListener('pagehide', () => this.keep());
    $('notes').addEventListener('input', () => this.keepLater());
    $('patient-summary').addEventListener('input', () => this.keepLater());
  }

  // What is typed goes to the drafts half a second after the last key (and at once when
  // the page goes away): a crash loses at most that.
  keepLater() {
    clearTimeout(this.keepSoon);
    this.keepSoon = setTimeout(() => this.keep(), 500);
  }

  keep() {
    clearTimeout(this.keepSoon);
    if (this.sessionId === null || !this.opened) return;
    if (this.unsaved()) this.drafts.set(this.sessionId, $('notes').value);
    else this.drafts.delete(this.sessionId);
    if ($('patient-summary').value !== this.summaryStart) this.summaryDrafts.set(this.sessionId, $('patient-summary').value);
    else this.summaryDrafts.delete(this.sessionId);
  }

  // Opens the screen's content for one consultation (the caller shows the screen).
  async open(appt, room = null) {
    this.sessionId = appt.session.id;
    this.patientName = appt.patient.name;
    this.saved = '';
    this.opened = false;        // the session's notes and summary are on screen (drafts may be kept)
    this.summaryStart = '';
    $('after-title').textContent = `Consultation with ${appt.patient.name}`;
    $('notes-state').textContent = '';
    $('notes').value = '';
    $('patient-summary').value = '';
    $('patient-summary-state').textContent = '';
    try {
      const s = await this.app.api.get(`${SESSIONS}/${appt.session.id}`);
      if (this.sessionId !== s.id) return;
      this.saved = s.notes || '';
      const draft = this.drafts.get(s.id);
      $('notes').value = draft ?? this.saved;
      if (draft !== undefined) $('notes-state').textContent = 'These notes were not saved yet: tap Save notes.';
      const minutes = s.duration_seconds != null ? `${Math.floor(s.duration_seconds / 60)} min ${s.duration_seconds % 60} s` : '—';
      // The summary for the patient starts from the call's facts; the doctor adds the advice.
      const day = s.started_at ? new Date(s.started_at).toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' }) : '';
      this.summaryStart = s.started_at
        ? `Video consultation on ${day}, ${clockTime(s.started_at)} to ${s.ended_at ? clockTime(s.ended_at) : '—'} (${minutes}).` +
          (room?.quality ? ` Connection: ${room.quality}.` : '') + '\n\n'
        : '';
      const summaryDraft = this.summaryDrafts.get(s.id);
      $('patient-summary').value = summaryDraft ?? this.summaryStart;
      if (summaryDraft !== undefined) $('patient-summary-state').textContent = 'This summary was not sent yet.';
      this.opened = true;
      facts($('summary'), [
        ['Patient', appt.patient.name],
        ['Started', s.started_at ? clockTime(s.started_at) : '—'],
        ['Ended', s.ended_at ? clockTime(s.ended_at) : '—'],
        ['Length', minutes],
        ['How it ended', s.end_reason || s.status],
        ['Chat messages', room ? String(room.chat.length) : '—'],
      ]);
    } catch (err) {
      this.app.toast(err.message);
    }
  }

  // The summary goes to the patient (the private notes never do): by their channel, once.
  async sendSummary() {
    const text = $('patient-summary').value.trim();
    if (!text) { $('patient-summary-state').textContent = 'Write the summary first.'; return; }
    try {
      const session = this.sessionId;
      const r = await this.app.api.put(`${SESSIONS}/${session}/summary`, { text, send: true });
      this.summaryDrafts.delete(session);
      if (this.sessionId === session) this.summaryStart = $('patient-summary').value;
      const sent = r.sent || {};
      const how = { sms: 'by text message (a link that asks for the code from the invite)', email: 'by email' }[sent.channel];
      $('patient-summary-state').textContent = sent.already_sent ? `Already sent ${how || ''}; the page shows this text now.`
        : how ? `Sent ${how} at ${at()}.` : `Saved, not sent: ${sent.reason || 'the patient cannot be reached'}.`;
    } catch (err) {
      $('patient-summary-state').textContent = `Not sent: ${err.message}`;
    }
  }

  unsaved() { return this.sessionId !== null && $('notes').value !== this.saved; }

  // Saves what is typed; true when the appliance has it.
  async save(token = this.app.api.token) {
    return this.store(this.sessionId, $('notes').value, token);
  }

  // The screen is being left: what is typed is saved, or kept as a draft and said.
  async leave(token = this.app.api.token) {
    this.keep();
    const [session, name, text, pending] = [this.sessionId, this.patientName, $('notes').value, this.unsaved()];
    this.sessionId = null;
    this.opened = false;
    if (!pending) return;
    if (await this.store(session, text, token)) this.app.toast(`Notes for ${name} saved.`, 'info');
    else this.app.toast(`The notes for ${name} could not be saved. They are kept on this kiosk: open "Write notes" to save them.`);
  }

  async store(session, text, token) {
    try {
      await this.app.api.put(`${SESSIONS}/${session}/notes`, { notes: text }, token);
      this.drafts.delete(session);
      if (this.sessionId === session) {
        this.saved = text;
        $('notes-state').textContent = `Notes saved at ${at()}.`;
      }
      return true;
    } catch (err) {
      this.drafts.set(session, text);
      if (this.sessionId === session) $('notes-state').textContent = `Not saved: ${err.message}`;
      return false;
    }
  }
}
