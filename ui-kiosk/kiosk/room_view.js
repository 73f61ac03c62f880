// What the waiting room and call screens show, drawn from a Room's state: the invite
// panel, the list of patients waiting, and the call's controls and notices. Which screen
// is up, and what a tap does, is the kiosk shell's business (kiosk.js).
import { drawQr } from '/ui/shared/qr.js';
import { clockTime } from '/kiosk/today.js';

const $ = (id) => document.getElementById(id);

export function showInvite(invite) {
  const panel = $('invite-panel');
  if (!invite) return;
  panel.hidden = false;
  // The link's address is one patients' phones cannot open (loopback, private, plain http).
  $('invite-warning').textContent = invite.warning || '';
  $('invite-warning').hidden = !invite.warning;
  if (invite.link) {
    $('invite-why').textContent = invite.channel === 'none'
      ? `${invite.reason ? `${invite.reason}. ` : 'No text message or email was sent. '}Give the patient this link, or let them scan the code.`
      : `Sent to the patient by ${invite.channel === 'sms' ? 'text message' : 'email'}${invite.notice ? ` (${invite.notice})` : ''}. This is the same link.`;
    // The short link is what a phone scans and a person can read out (its code beside it).
    const link = invite.short_link || invite.link;
    $('invite-link').textContent = invite.code ? `${link}  (code ${invite.code})` : link;
    drawQr($('invite-qr'), link, 448);
    $('invite-qr').hidden = false;
  } else {
    $('invite-why').textContent = `Sent to the patient by ${invite.channel === 'sms' ? 'text message' : 'email'} (${invite.status}).` +
      (invite.notice ? ` ${invite.notice}` : '');
    $('invite-link').textContent = '';
    $('invite-qr').hidden = true;
  }
}

function precheckText(p) {
  if (!p) return ['Pre-call check: not done yet', false];
  const part = (label, v) => `${label} ${v === 'ok' ? '✓' : v === 'failed' ? '✗' : '–'}`;
  const bad = p.camera === 'failed' || p.microphone === 'failed';
  return [`Pre-call check: ${part('camera', p.camera)}, ${part('microphone', p.microphone)}, ${part('speaker', p.speaker)}`, bad];
}

// `entries`: [session id, its waiting_room patients, a name to fall back on, its status]
// for this room and any other of the doctor's sessions with someone waiting;
// `actions.admit` and `actions.decline` take (session id, name, screen, status). Only
// screens that wait are listed: the one in the call is not.
export function drawWaitingList(room, entries, actions) {
  const list = $('waiting-list');
  list.replaceChildren();
  let any = false;
  for (const [session, patients, fallback, status] of entries)
    for (const p of patients.filter((x) => x.connected && !x.in_call)) {
      any = true;
      const li = document.createElement('li');
      li.className = 'waiting-item';
      li.dataset.session = session;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = p.name || fallback || 'Patient';
      const since = document.createElement('span');
      since.textContent = `waiting since ${clockTime(p.since)}`;
      const [check, bad] = precheckText(p.precheck);
      const pre = document.createElement('span');
      pre.className = bad ? 'check-bad' : 'check-ok';
      pre.textContent = check;
      const why = document.createElement('span');
      why.className = 'waiting-why';
      why.hidden = !p.reason || p.reason === 'first_visit';
      why.textContent = p.reason_text || '';
      const admit = document.createElement('button');
      admit.type = 'button';
      admit.className = 'primary';
      admit.textContent = 'Admit';
      admit.addEventListener('click', () => actions.admit(session, name.textContent, p.screen, status));
      const decline = document.createElement('button');
      decline.type = 'button';
      decline.textContent = 'Decline';
      decline.addEventListener('click', () => actions.decline(session, name.textContent, p.screen, status));
      li.append(name, since, pre, why, admit, decline);
      list.append(li);
    }
  $('waiting-empty').hidden = any;
  $('waiting-session').textContent = room ? `${room.patientName} · ${room.appointment ? clockTime(room.appointment.starts_at) : ''}` : '';
}

// The call's controls, the patient's link and media state, and the content camera.
export function drawCall(room) {
  $('mute').setAttribute('aria-pressed', String(!room.audio));
  $('mute').textContent = room.audio ? 'Mute' : 'Unmute';
  $('camera').setAttribute('aria-pressed', String(!room.video));
  $('camera').textContent = room.video ? 'Camera off' : 'Camera on';
  const q = $('quality-chip');
  q.hidden = !room.quality;
  q.dataset.level = { good: 'ok', fair: 'warn', poor: 'bad' }[room.quality] || '';
  q.textContent = `Patient's connection: ${room.quality}`;
  const notes = [];
  if (room.patientAudio === false) notes.push('Patient muted');
  if (room.patientVideo === false) notes.push("Patient's camera off");
  $('patient-state').textContent = notes.join(' · ');
  $('patient-state').hidden = notes.length === 0;
  const c = room.content;
  $('content').disabled = !c.available;
  $('content').setAttribute('aria-pressed', String(!!c.on));
  $('content').textContent = c.on ? 'Stop sharing' : 'Share content camera';
  $('content-why').textContent = c.available ? 'Share content camera: the patient also sees the second camera.'
    : 'No content camera is set up on this appliance ([media] content_camera).';
  $('content-state').textContent = c.on ? 'shared with the patient' : c.available ? 'ready, not shared' : 'not connected';
  $('content-video').hidden = !c.on;
  const r = room.recording;
  const rec = $('record');
  rec.disabled = room.status !== 'in-progress';
  rec.setAttribute('aria-pressed', String(r.state !== 'off'));
  rec.textContent = r.state === 'on' ? 'Stop recording' : r.state === 'asking' ? 'Cancel request' : 'Record';
  $('record-why').textContent = r.state === 'asking' ? "Waiting for the patient's answer on their screen."
    : 'Record: the patient is asked first, and can stop it at any time.';
  $('recording-chip').hidden = r.state !== 'on';
}
