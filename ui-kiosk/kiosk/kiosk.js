// The doctor's touch screen: sign-in with a PIN, the day's video appointments, the
// waiting room, the call, notes afterwards, and Settings behind the admin PIN. The
// token lives in this page's memory only; untouched for a while, the screen signs out.
import { Signalling } from '/ui/shared/signalling.js';
import { AfterCall } from '/kiosk/after.js';
import { busy } from '/kiosk/busy.js';
import { Api } from '/kiosk/api.js';
import { chime } from '/kiosk/chime.js';
import { Room } from '/kiosk/room.js';
import { drawCall, drawWaitingList, showInvite } from '/kiosk/room_view.js';
import { Settings } from '/kiosk/settings.js';
import { Setup } from '/kiosk/setup.js';
import { SignIn } from '/kiosk/signin.js';
import { pollHealth, statusChips } from '/kiosk/status.js';
import { reviewRecording } from '/kiosk/review.js';
import { clockTime, renderDay } from '/kiosk/today.js';

const $ = (id) => document.getElementById(id);
const SESSIONS = '/api/video-consultations/sessions';

const app = {
  screen: 'signin',
  token: null, identity: null, doctorName: '', ttl: 900, renewAt: 0,
  adminToken: null, returnTo: null,
  idleSeconds: 300, lastTouch: Date.now(),
  doctors: [], pinFor: null, pin: '',
  dayOffset: 0, appointments: [], invites: new Map(),
  lobby: null, lobbyConnected: false, rooms: new Map(), announced: new Set(), arrival: null,
  room: null, health: null, cloud: null, unreachable: false, chimes: 0, lastFeedbackMs: null,
};
window.consultKiosk = app;   // for the automated tests and for support
app.api = new Api((down) => { app.unreachable = down; statusChips(app); }, () => app.signOut('expired'));
const settings = new Settings(app);
const after = new AfterCall(app);
// Function declarations below are hoisted: the sign-in screen can be made here.
const signIn = new SignIn(app, { show, signedIn, openSettings });
const setup = new Setup(app, { show, done: () => { show('signin'); signIn.loadDoctors(); } });

// ---------------------------------------------------------------- screens and feedback

function show(screen) {
  // Leaving the notes: what was typed is saved (or kept and said), never dropped.
  if (app.screen === 'after' && screen !== 'after' && screen !== 'settings') after.leave();
  // Today opens at the time of day, not at the first appointment (see renderToday).
  if (screen === 'today' && app.screen !== 'today') app.scrollDay = true;
  app.screen = screen;
  document.body.dataset.screen = screen;
  for (const s of document.querySelectorAll('main > [data-screen]')) s.hidden = s.dataset.screen !== screen;
  $('sign-out').hidden = !app.token && !app.adminToken;
  $('open-settings').hidden = ['settings', 'call', 'setup', 'starting'].includes(screen);
  renderBanner();
}

// A message for a few seconds in the bar under the header: red for a problem, blue for news.
app.toast = (text, level = 'problem') => {
  const p = $('problem');
  p.textContent = text;
  p.hidden = false;
  p.dataset.kind = 'toast';
  p.dataset.level = level;
  clearTimeout(app.toastTimer);
  app.toastTimer = setTimeout(() => { if (p.dataset.kind === 'toast') p.hidden = true; }, 6000);
};

app.confirm = (text, yes = 'Yes') => new Promise((resolve) => {
  const d = $('confirm');
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = yes;
  const done = (answer) => {
    $('confirm-yes').onclick = $('confirm-no').onclick = null;
    d.close();
    resolve(answer);
  };
  $('confirm-yes').onclick = () => done(true);
  $('confirm-no').onclick = () => done(false);
  d.showModal();
});

// Every tap shows at once: a pressed state on pointerdown, before any network answer.
document.addEventListener('pointerdown', (e) => {
  app.lastTouch = Date.now();
  $('idle-warning').hidden = true;
  const b = e.target.closest('button');
  if (!b || b.disabled) return;
  const t0 = performance.now();
  b.classList.add('pressed');
  requestAnimationFrame(() => { app.lastFeedbackMs = performance.now() - t0; });
  const release = () => setTimeout(() => b.classList.remove('pressed'), 120);
  b.addEventListener('pointerup', release, { once: true });
  b.addEventListener('pointercancel', release, { once: true });
}, { capture: true });
document.addEventListener('keydown', () => { app.lastTouch = Date.now(); });
document.addEventListener('contextmenu', (e) => e.preventDefault());
document.addEventListener('dblclick', (e) => e.preventDefault());

// ---------------------------------------------------------------- sign-in

function signedIn(r, doctor) {
  app.token = r.token;
  app.api.token = r.token;
  app.identity = r.identity;
  app.doctorName = doctor.full_name;
  app.ttl = r.ttl_seconds;
  app.renewAt = Date.now() + Math.max(30, r.ttl_seconds - 120) * 1000;
  app.idleSeconds = r.idle_seconds || app.idleSeconds;
  app.lastTouch = Date.now();
  app.returnTo = null;
  signIn.closePin();
  $('who').textContent = doctor.full_name;
  app.dayOffset = 0;
  openLobby();
  show('today');
  refreshDay();
}

app.signOut = (why = 'tapped') => {
  const token = app.adminToken || app.token;
  // Notes being written are saved with the doctor's token before it is given up.
  const notes = app.screen === 'after' ? after.leave(app.token) : Promise.resolve();
  if (token) notes.finally(() => app.api.post('/api/kiosk/sign-out', { reason: why }, token).catch(() => {}));
  app.room?.close();
  app.room = null;
  app.lobby?.close();
  app.lobby = null;
  app.token = app.adminToken = null;
  app.api.token = null;
  app.rooms.clear();
  app.announced.clear();
  app.arrival = null;
  app.appointments = [];
  $('day-list').replaceChildren();
  $('who').textContent = 'Consult Room';
  $('idle-warning').hidden = true;
  signIn.closePin();
  show('signin');
  if (why === 'idle') app.toast('Signed out after a while without use.', 'info');
  if (why === 'expired') app.toast('The sign-in has expired. Please sign in again.');
};

// Signing out ends a call still running (the room's camera and microphone never stay on
// for a patient with no doctor signed in): the doctor confirms first, the patient is told.
async function signOutTapped() {
  if (app.screen === 'settings' && app.token) return closeSettings();
  const room = app.room;
  if (room && room.status === 'in-progress' &&
      !(await app.confirm(`Signing out ends the consultation with ${room.patientName}. They are told it has ended.`, 'End call and sign out')))
    return;
  app.signOut('tapped');
}

// ---------------------------------------------------------------- Settings (admin)

function openSettings(r) {
  app.adminToken = r.token;
  app.lastTouch = Date.now();
  const back = app.returnTo;
  signIn.closePin();
  app.returnTo = back;
  show('settings');
  settings.show();
}

function closeSettings() {
  settings.hide();
  app.api.post('/api/kiosk/sign-out', { reason: 'settings closed' }, app.adminToken).catch(() => {});
  app.adminToken = null;
  const back = app.token ? (app.returnTo && app.returnTo !== 'settings' ? app.returnTo : 'today') : 'signin';
  app.returnTo = null;
  show(back);
}

// ---------------------------------------------------------------- the lobby socket

function openLobby() {
  const s = new Signalling(app.token);
  app.lobby = s;
  s.on('welcome', () => { app.lobbyConnected = true; statusChips(app); });
  s.on('waiting_room', (m) => {
    if (m.status === 'completed' || m.status === 'cancelled') app.rooms.delete(m.session);
    else app.rooms.set(m.session, m);
    announce(m);
    if (app.screen === 'today') renderToday();
    if (app.screen === 'waiting') renderWaiting();
  });
  s.on('state', (m) => {
    // An ended or cancelled consultation has nobody waiting any more.
    if (m.status === 'completed' || m.status === 'cancelled') app.rooms.delete(m.session);
    refreshDay();
  });
  s.on('closed', ({ final, code }) => {
    app.lobbyConnected = false;
    statusChips(app);
    if (code === 4401 && app.token) app.signOut('expired');
    else if (final && app.token && app.lobby === s) setTimeout(() => app.lobby === s && openLobby(), 2000);
  });
  s.connect();
}

// A patient arriving: a chime and a banner on whatever screen is showing.
function announce(m) {
  for (const p of m.patients || []) {
    const key = `${m.session}:${p.participant_id}`;
    if (!p.connected || m.status === 'in-progress' || m.status === 'completed' || app.announced.has(key)) continue;
    app.announced.add(key);
    app.arrival = { session: m.session, name: p.name || 'A patient' };
    chime();
  }
  if (app.arrival) {
    const still = app.rooms.get(app.arrival.session);
    if (!still || !still.patients.some((p) => p.connected) || still.status === 'in-progress') app.arrival = null;
  }
  renderBanner();
}

function renderBanner() {
  const a = app.arrival;
  const onIt = a && app.screen === 'waiting' && app.room?.sessionId === a.session;
  $('arrival').hidden = !a || onIt || !app.token || app.screen === 'signin';
  // In a call the banner only tells: opening the waiting room would leave this call's screen.
  const inCall = app.screen === 'call';
  $('arrival-open').hidden = inCall;
  if (a) $('arrival-text').textContent = inCall ? `${a.name} is in the waiting room (after this call).` : `${a.name} is in the waiting room.`;
}

// ---------------------------------------------------------------- Today

function dayDate() {
  const d = new Date();
  d.setDate(d.getDate() + app.dayOffset);
  return d;
}
const ymd = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

async function refreshDay() {
  if (!app.token) return;
  const date = ymd(dayDate());
  try {
    const [day, sessions] = await Promise.all([
      app.api.get(`/api/kiosk/day?date=${date}`),
      app.api.get(`${SESSIONS}?date=${date}`),
    ]);
    app.appointments = day.appointments;
    app.invites = new Map(sessions.sessions.filter((s) => s.invite).map((s) => [s.id, s.invite]));
    app.dayLoadedAt = Date.now();
    renderToday();
  } catch (err) {
    if (err.status !== 401) app.toast(err.message);
  }
}

function renderToday() {
  const d = dayDate();
  $('day-title').textContent = app.dayOffset === 0 ? `Today, ${d.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' })}`
    : d.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' });
  const waiting = new Set([...app.rooms.values()].filter((m) => m.patients.some((p) => p.connected) && m.status !== 'in-progress').map((m) => m.session));
  $('waiting-count').textContent = String(waiting.size);
  $('day-empty').hidden = app.appointments.length > 0;
  const t0 = performance.now();
  renderDay($('day-list'), {
    appointments: app.appointments, invites: app.invites, waitingSessions: waiting, isToday: app.dayOffset === 0, now: Date.now(),
    actions: { start: startAppointment, open: openAppointment, invite: resendInvite, cancel: cancelAppointment, notes: notesFor,
               review: (a) => reviewRecording(app, a) },
  });
  app.lastRenderMs = performance.now() - t0;
  if (app.scrollDay && app.appointments.length) {
    app.scrollDay = false;
    // The next appointment (or, after the last one, the last) at the top of the list.
    const rows = $('day-list').querySelectorAll('.appt');
    const at = app.dayOffset === 0 ? $('day-list').querySelector('.next') || rows[rows.length - 1] : rows[0];
    at.scrollIntoView({ block: 'start' });
  }
}

async function startAppointment(appt) {
  try {
    const r = await app.api.post(SESSIONS, { appointment_id: appt.id, duration_minutes: appt.duration_minutes });
    enterRoom({ sessionId: r.session_id, patientName: appt.patient.name, appointment: appt }, r.invite);
    refreshDay();
  } catch (err) {
    app.toast(err.message);
    refreshDay();
  }
}

// A session not started yet (prepared at booking, or by an earlier Start) opens through
// Start, which answers with the invite's state: the link and QR code when no message
// reached the patient. A call in progress is simply rejoined.
function openAppointment(appt) {
  if (appt.session.status === 'scheduled' || appt.session.status === 'waiting') return startAppointment(appt);
  enterRoom({ sessionId: appt.session.id, patientName: appt.patient.name, appointment: appt }, null);
}

async function resendInvite(appt) {
  const id = appt.session.id;
  let sent = null;
  let why = '';
  // By text message, else by email; what the appliance says when neither can go.
  for (const channel of ['sms', 'email']) {
    try {
      sent = (await app.api.post(`${SESSIONS}/${id}/invite`, { channel })).invite;
      break;
    } catch (err) {
      why = why || err.message;
      if (err.code !== 'channel_unavailable') break;
    }
  }
  try {
    // A fresh link on screen as well, to read out or scan.
    const t = await app.api.post(`${SESSIONS}/${id}/token`, { user_id: appt.patient.id, user_type: 'patient' });
    const link = `${location.origin}/v/${appt.session.room_name}#t=${t.token}`;
    const invite = sent ? { ...sent, link } : { channel: 'none', link, reason: why };
    enterRoom({ sessionId: id, patientName: appt.patient.name, appointment: appt }, invite);
  } catch (err) {
    app.toast(err.message);
  }
}

async function cancelAppointment(appt) {
  if (!(await app.confirm(`Cancel the video consultation with ${appt.patient.name}?`, 'Cancel it'))) return;
  try {
    await app.api.post(`${SESSIONS}/${appt.session.id}/cancel`, { reason: 'cancelled at the kiosk' });
  } catch (err) {
    app.toast(err.message);
  }
  refreshDay();
}

// ---------------------------------------------------------------- waiting room and call

function enterRoom(info, invite) {
  if (app.room && app.room.sessionId !== info.sessionId) app.room.close();
  if (!app.room || app.room.sessionId !== info.sessionId) {
    const room = new Room(app, info);
    app.room = room;
    room.addEventListener('changed', () => app.room === room && renderRoom());
    room.addEventListener('closed', () => app.room === room && roomClosed(room));
    room.open();
  }
  showInvite(invite);
  show(app.room.status === 'in-progress' ? 'call' : 'waiting');
  renderRoom();
}

function renderRoom() {
  const room = app.room;
  if (!room) return;
  if (room.status === 'in-progress' && app.screen === 'waiting') show('call');
  if (app.screen === 'waiting') renderWaiting();
  if (app.screen === 'call') drawCall(app.room);
}

function renderWaiting() {
  const room = app.room;
  const entries = room ? [[room.sessionId, room.patients, room.patientName, room.status]] : [];
  // Others waiting for this doctor (from the lobby) are listed too.
  for (const [id, m] of app.rooms) if (!room || id !== room.sessionId) entries.push([id, m.patients, null, m.status]);
  drawWaitingList(room, entries, { admit: admitFrom, decline: declineFrom });
}

function roomFor(session, name) {
  if (app.room?.sessionId === session) return app.room;
  const appt = app.appointments.find((a) => a.session?.id === session);
  enterRoom({ sessionId: session, patientName: name, appointment: appt }, null);
  return app.room;
}

async function admitFrom(session, name, screen, status) {
  // Into a call already running (the patient left, dropped too long, or opened the link
  // on another device): the lobby socket names the screen to let in.
  if (status === 'in-progress' && app.lobby?.send({ type: 'admit', session, screen })) return;
  roomFor(session, name);
  app.arrival = null;
  renderBanner();
  // The room's socket may still be opening: admit over REST, which works either way;
  // its `state` message then starts the call on this screen.
  try {
    await app.api.post(`${SESSIONS}/${session}/admit`, {});
    show('call');
    drawCall(app.room);
  } catch (err) {
    app.toast(err.message);
  }
}

async function declineFrom(session, name, screen, status) {
  if (status === 'in-progress') {
    // Turns this one device away; the call goes on.
    if (!(await app.confirm(`Do not let this device of ${name}'s in? The call goes on.`, 'Do not let in'))) return;
    if (!app.lobby?.send({ type: 'decline', session, screen })) app.toast('Not connected to the appliance; try again.');
    return;
  }
  if (!(await app.confirm(`Decline ${name}? They are told the consultation will not take place now.`, 'Decline'))) return;
  roomFor(session, name);
  app.api.post(`${SESSIONS}/${session}/cancel`, { reason: 'declined by the doctor' }).catch((err) => app.toast(err.message));
}

function roomClosed(room) {
  app.room = null;
  refreshDay();
  if (room.callFailed) {
    app.toast(room.callFailed);
    show('today');
    return;
  }
  if (room.status === 'in-progress' || room.status === 'completed' || room.startedAt) notesFor({ session: { id: room.sessionId }, patient: { name: room.patientName } }, room);
  else {
    if (room.ended) app.toast(`Consultation with ${room.patientName}: ${room.ended}.`, 'info');
    show('today');
  }
}

// ---------------------------------------------------------------- after the call

function notesFor(appt, room = null) {
  show('after');
  after.open(appt, room);
}

// ---------------------------------------------------------------- status, clock, idle, renewal

// The health poll, then Settings' own status when it is open.
async function refreshStatus() {
  await pollHealth(app);
  if (app.screen === 'settings') settings.status();
}

function tick() {
  const now = Date.now();
  $('clock').textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (app.room?.startedAt && app.screen === 'call') {
    const s = Math.max(0, Math.floor((now - app.room.startedAt) / 1000));
    $('call-timer').textContent = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }
  const signedIn = app.token || app.adminToken;
  // A call is not "inactivity": the doctor talks without touching the screen.
  if (app.screen === 'call') app.lastTouch = now;
  if (signedIn) {
    const idle = (now - app.lastTouch) / 1000;
    const left = Math.ceil(app.idleSeconds - idle);
    $('idle-warning').hidden = left > 30;
    $('idle-count').textContent = String(Math.max(0, left));
    if (left <= 0) app.signOut('idle');
  }
  if (app.token && now >= app.renewAt) {
    app.renewAt = now + 60000;   // retried in a minute if this fails
    app.api.post('/api/kiosk/renew', undefined).then((r) => {
      app.token = r.token;
      app.api.token = r.token;
      if (app.lobby) app.lobby.token = r.token;
      if (app.room?.signalling) app.room.signalling.token = r.token;
      app.renewAt = Date.now() + Math.max(30, r.ttl_seconds - 120) * 1000;
    }).catch(() => {});
  }
  if (app.token && app.screen === 'today' && now - (app.dayLoadedAt || 0) > 30000) refreshDay();
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('open-settings').addEventListener('click', () => signIn.askPin({ admin: true }));
  $('settings-back').addEventListener('click', closeSettings);
  $('sign-out').addEventListener('click', signOutTapped);
  $('day-prev').addEventListener('click', () => { app.dayOffset--; app.scrollDay = true; refreshDay(); });
  $('day-next').addEventListener('click', () => { app.dayOffset++; app.scrollDay = true; refreshDay(); });
  $('open-waiting').addEventListener('click', () => { show('waiting'); renderWaiting(); });
  $('waiting-back').addEventListener('click', () => { show('today'); refreshDay(); });
  $('arrival-open').addEventListener('click', () => {
    const a = app.arrival;
    if (!a) return;
    const appt = app.appointments.find((x) => x.session?.id === a.session);
    enterRoom({ sessionId: a.session, patientName: a.name, appointment: appt }, null);
    show('waiting');
    renderWaiting();
  });
  $('arrival-dismiss').addEventListener('click', () => { app.arrival = null; renderBanner(); });
  const patientVideo = $('patient-video');
  const placeholder = () => { $('patient-placeholder').hidden = patientVideo.videoWidth > 0; };
  patientVideo.addEventListener('resize', placeholder);
  patientVideo.addEventListener('emptied', placeholder);
  $('mute').addEventListener('click', () => app.room?.toggleMute());
  $('content').addEventListener('click', () => app.room?.toggleContent());
  $('record').addEventListener('click', () => app.room?.toggleRecording());
  $('camera').addEventListener('click', () => app.room?.toggleCamera());
  $('chat-toggle').addEventListener('click', () => {
    const open = $('chat').hidden;
    $('chat').hidden = !open;
    $('chat-toggle').setAttribute('aria-expanded', String(open));
    if (open) $('chat-unread').hidden = true;
  });
  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('chat-input').value.trim();
    if (text && app.room?.sendChat(text)) $('chat-input').value = '';
  });
  $('end').addEventListener('click', async () => {
    const room = app.room;
    if (room && (await app.confirm(`End the consultation with ${room.patientName}?`, 'End call'))) room.end();
  });
  $('save-notes').addEventListener('click', () => busy($('save-notes'), () => after.save()));
  $('send-summary').addEventListener('click', () => busy($('send-summary'), () => after.sendSummary()));
  $('after-done').addEventListener('click', () => { show('today'); refreshDay(); });
}

wire();
show('starting');
setup.check().catch(() => false).then((needed) => {
  if (needed) return;
  show('signin');
  signIn.loadDoctors();
});
refreshStatus();
setInterval(refreshStatus, 10000);
setInterval(tick, 1000);
tick();
