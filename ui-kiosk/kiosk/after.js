// After a call: the consultation's facts and the doctor's notes. Typed notes are never
// lost without a word: leaving the screen (Back to Today, a patient arriving, signing
// out, the idle sign-out) saves them; when that fails they are kept on this kiosk as a
// draft, the doctor is told, and the draft comes back when the notes are opened again.
// Drafts live in the tab's session storage, so a reload of the kiosk page keeps them
// (and what was typed when the page went away becomes one); saved notes leave it.
import { facts } from '/kiosk/settings.js';
import { clockTime } from '/kiosk/today.js';

const $ = (id) => document.getElementById(id);
const SESSIONS = '/api/video-consultations/sessions';
const at = () => new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

// Notes typed and not saved, by session, in this tab's session storage.
class Drafts {
  static KEY = 'consult.notes-drafts';
  all() {
    try { return JSON.parse(sessionStorage.getItem(Drafts.KEY) || '{}'); } catch { return {}; }
  }
  get(session) { return this.all()[session]; }
  set(session, text) { this.write({ ...this.all(), [session]: text }); }
  delete(session) {
    const all = this.all();
    delete all[session];
    this.write(all);
  }
  write(all) {
    try {
      if (Object.keys(all).length) sessionStorage.setItem(Drafts.KEY, JSON.stringify(all));
      else sessionStorage.removeItem(Drafts.KEY);
    } catch { /* storage full or off: the draft stays on screen, as before */ }
  }
}

export class AfterCall {
  constructor(app) {
    this.app = app;
    this.sessionId = null;
    this.patientName = '';
    this.saved = '';            // the notes as the appliance has them
    this.drafts = new Drafts(); // session → notes typed but not saved
    addEventListener('pagehide', () => { if (this.unsaved()) this.drafts.set(this.sessionId, $('notes').value); });
  }

  // Opens the screen's content for one consultation (the caller shows the screen).
  async open(appt, room = null) {
    this.sessionId = appt.session.id;
    this.patientName = appt.patient.name;
    this.saved = '';
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
      $('patient-summary').value = s.started_at
        ? `Video consultation on ${day}, ${clockTime(s.started_at)} to ${s.ended_at ? clockTime(s.ended_at) : '—'} (${minutes}).` +
          (room?.quality ? ` Connection: ${room.quality}.` : '') + '\n\n'
        : '';
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
      const r = await this.app.api.put(`${SESSIONS}/${this.sessionId}/summary`, { text, send: true });
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
    const [session, name, text, pending] = [this.sessionId, this.patientName, $('notes').value, this.unsaved()];
    this.sessionId = null;
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
