// The patient's page: browser check, pre-call test, waiting room, call, end.
// The token comes from the URL fragment, which browsers never send to a server.
import { Signalling } from '/ui/shared/signalling.js';
import { AnsweringPeer } from '/ui/shared/peer.js';
import { appendChat } from '/ui/shared/chat.js';

const $ = (id) => document.getElementById(id);
const state = {
  token: new URLSearchParams(location.hash.slice(1)).get('t') || '',
  stream: null,
  signalling: null,
  peer: null,
  iceServers: [],
  audio: true,
  video: true,
  micHeard: false,
  speaker: 'skipped',
  screen: 'loading',
  reconnectTimer: 0,
  sessionId: '',
  wasInCall: false,
};
// For the automated tests and for support: what the page is doing.
window.consultPatient = state;

// This browser's own id, kept on this device only: the appliance lets the same device
// back into a call it dropped from; another device waits for the doctor.
function deviceId() {
  const fresh = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  try {
    let id = localStorage.getItem('consult-device');
    if (!id || !/^[0-9a-f]{32}$/.test(id)) localStorage.setItem('consult-device', (id = fresh()));
    return id;
  } catch {
    return state.fallbackDevice || (state.fallbackDevice = fresh());
  }
}

const WAITING_REASONS = {
  another_device: 'This link is already open in the call on another device. The doctor has been told and can move the call to this device.',
  after_leaving: 'You left the call. The doctor has been told and will let you back in.',
  after_rejoin_window: 'Your connection dropped for a while. The doctor has been told and will let you back in.',
};

const prechecked = () => sessionStorage.getItem('consult-precheck:' + state.token.slice(-24));

function show(screen) {
  state.screen = screen;
  document.body.dataset.state = screen;
  for (const s of document.querySelectorAll('[data-screen]')) s.hidden = s.dataset.screen !== screen;
}

function end(title, why, { rate = false } = {}) {
  $('ended-title').textContent = title;
  $('ended-why').textContent = why || '';
  // A consultation that took place is rated after it (optional: Skip, or just close).
  $('rating').hidden = !(rate && state.wasInCall && state.sessionId);
  if (state.peer) state.peer.close();
  if (state.stream) for (const t of state.stream.getTracks()) t.stop();
  if (state.signalling) state.signalling.close();
  $('quality').hidden = true;
  show('ended');
}

function unsupported() {
  if (!window.isSecureContext) return 'The page was not opened over a secure connection (https).';
  if (!window.RTCPeerConnection) return 'This browser does not support video calls (WebRTC).';
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
    return 'This browser does not let web pages use the camera and microphone.';
  return '';
}

// ------------------------------------------------------------ pre-call test

async function openDevices(cameraId, micId) {
  const video = { width: { ideal: 1280 }, height: { ideal: 720 }, ...(cameraId ? { deviceId: { exact: cameraId } } : {}) };
  const audio = { echoCancellation: true, noiseSuppression: true, ...(micId ? { deviceId: { exact: micId } } : {}) };
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video, audio });
  } catch (err) {
    // A camera may be missing or busy: try the microphone alone before giving up.
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio });
      showDeviceError('Your camera could not be opened (' + err.name + '). The doctor will hear you but not see you.');
    } catch (err2) {
      showDeviceError(err2.name === 'NotAllowedError'
        ? 'The browser was not allowed to use the camera and microphone. Allow them in the address bar and reload the page.'
        : 'No camera or microphone could be opened (' + err2.name + ').');
      return null;
    }
  }
  if (state.stream) for (const t of state.stream.getTracks()) t.stop();
  state.stream = stream;
  for (const v of [$('preview'), $('waiting-preview'), $('self')]) v.srcObject = stream;
  for (const t of stream.getTracks()) t.enabled = t.kind === 'audio' ? state.audio : state.video;
  meter(stream);
  if (state.peer) for (const t of stream.getTracks()) await state.peer.replaceTrack(t);
  return stream;
}

function showDeviceError(text) {
  $('device-error').textContent = text;
  $('device-error').hidden = false;
}

let meterContext = null;
function meter(stream) {
  const track = stream.getAudioTracks()[0];
  if (!track) return;
  if (meterContext) meterContext.close();
  const ctx = new AudioContext();
  meterContext = ctx;
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  const tick = () => {
    if (meterContext !== ctx) return;
    analyser.getFloatTimeDomainData(data);
    let peak = 0;
    for (const x of data) peak = Math.max(peak, Math.abs(x));
    if (peak > 0.02) state.micHeard = true;
    $('mic-level').style.width = Math.min(100, Math.round(peak * 200)) + '%';
    requestAnimationFrame(tick);
  };
  tick();
  document.addEventListener('pointerdown', () => ctx.resume(), { once: true });
}

async function fillPickers() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const fill = (select, kind, current) => {
    select.replaceChildren();
    for (const d of devices.filter((x) => x.kind === kind)) {
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || kind;
      o.selected = d.deviceId === current;
      select.append(o);
    }
  };
  const settings = (kind) => state.stream?.getTracks().find((t) => t.kind === kind)?.getSettings().deviceId;
  fill($('camera-select'), 'videoinput', settings('video'));
  fill($('mic-select'), 'audioinput', settings('audio'));
  if ('setSinkId' in HTMLMediaElement.prototype) {
    fill($('speaker-select'), 'audiooutput', 'default');
    $('speaker-picker').hidden = false;
  }
}

function playTestSound() {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.frequency.value = 660;
  gain.gain.setValueAtTime(0.2, ctx.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 1.2);
  osc.connect(gain).connect(ctx.destination);
  osc.start();
  osc.stop(ctx.currentTime + 1.2);
  osc.onended = () => ctx.close();
  $('heard-sound').disabled = false;
}

function precheckResult() {
  const has = (kind) => !!state.stream?.getTracks().some((t) => t.kind === kind && t.readyState === 'live');
  return {
    type: 'precheck',
    camera: has('video') ? 'ok' : 'failed',
    microphone: !has('audio') ? 'failed' : state.micHeard ? 'ok' : 'skipped',
    speaker: state.speaker,
    browser: navigator.userAgent.slice(0, 200),
  };
}

// ------------------------------------------------------------ recording

// The doctor asks to record: the question in plain words, two equal answers. Nothing
// is recorded unless the patient taps yes; "Stop recording" withdraws at any time.
function askConsent(m) {
  $('consent-text').textContent = m.text || '';
  $('consent').hidden = false;
  $('consent-yes').focus();
}

function answerConsent(given) {
  $('consent').hidden = true;
  state.signalling.send({ type: 'consent', given });
}

function showRecording(m) {
  const on = m.state === 'on';
  $('recording').hidden = !on;
  $('withdraw').hidden = !on;
  if (m.state !== 'asking') $('consent').hidden = true;
  // A short note after an answer; later updates (the file closing) leave it be.
  const note = $('recording-note');
  const text = m.withdrawn ? 'Recording stopped, as you asked.'
    : m.consent === 'declined' && m.state === 'off' ? 'Nothing is being recorded.' : '';
  if (!text) return;
  note.textContent = text;
  note.hidden = false;
  clearTimeout(state.noteTimer);
  state.noteTimer = setTimeout(() => { note.hidden = true; }, 6000);
}

// ------------------------------------------------------------ signalling

function connect() {
  const s = new Signalling(state.token, { device: deviceId() });
  state.signalling = s;
  s.on('welcome', (m) => {
    state.sessionId = m.session?.id || state.sessionId;
    state.iceServers = m.ice_servers || [];
    const info = m.session || {};
    if (info.clinic) $('clinic').textContent = info.clinic;
    if (info.doctor) $('doctor-name').textContent = info.doctor;
    $('chat-log').replaceChildren();
    for (const c of m.chat || []) addChat(c);
    if (m.peer_media) doctorMedia(m.peer_media);
    s.send(prechecked() ? JSON.parse(prechecked()) : precheckResult());
    sendMedia();
  });
  s.on('waiting', (m) => {
    $('waiting-since').textContent = new Date(m.since).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const why = WAITING_REASONS[m.reason];
    $('waiting-reason').textContent = why || '';
    $('waiting-reason').hidden = !why;
    if (state.peer) state.peer.close();
    show('waiting');
  });
  s.on('admitted', () => {
    state.wasInCall = true;
    show('call');
    $('reconnecting').hidden = true;
  });
  s.on('offer', async (m) => {
    if (!state.peer) {
      state.peer = new AnsweringPeer(s, state.iceServers, state.stream);
      // The offer says what each m-line carries: the room camera and audio go to the
      // main video, the shared second camera to its own.
      state.peer.addEventListener('track', (e) => {
        const label = state.peer.streamOf(e.detail.transceiver);
        const v = label === 'content' ? $('content') : $('remote');
        // One track of each kind per picture: a new connection's track replaces the old one.
        const stream = v.srcObject instanceof MediaStream ? v.srcObject : new MediaStream();
        for (const t of stream.getTracks()) if (t.kind === e.detail.track.kind && t !== e.detail.track) stream.removeTrack(t);
        if (!stream.getTracks().includes(e.detail.track)) stream.addTrack(e.detail.track);
        v.srcObject = stream;
      });
      state.peer.addEventListener('state', (e) => onPeerState(e.detail));
    }
    state.peer.localStream = state.stream;
    state.wasInCall = true;
    show('call');
    try {
      await state.peer.onOffer(m.sdp, m.streams);
    } catch (err) {
      console.error('answer failed', err);
      s.send({ type: 'reconnect_media' });
    }
  });
  s.on('ice', (m) => state.peer && state.peer.onCandidate(m.candidate, m.mline));
  s.on('chat', addChat);
  s.on('quality', (m) => {
    const q = $('quality');
    q.hidden = false;
    q.dataset.level = m.level;
    q.textContent = { good: 'Connection: good', fair: 'Connection: fair', poor: 'Connection: poor' }[m.level] || '';
  });
  s.on('audio_only', (m) => { $('audio-only').hidden = !m.on; });
  s.on('media_notice', (m) => {
    if (m.kind === 'unsupported') state.unsupported = m.message;
    else if (m.kind === 'video_refused') { $('video-refused').textContent = m.message; $('video-refused').hidden = false; }
  });
  s.on('content', (m) => {
    $('content').hidden = !m.on;
    document.querySelector('.stage').classList.toggle('sharing', m.on);
  });
  s.on('peer_media', doctorMedia);
  s.on('consent_request', askConsent);
  s.on('recording', showRecording);
  s.on('error', (m) => {
    if (m.code === 'not_admitted') return;
    console.warn('appliance refused a message:', m.message);
  });
  s.on('ended', (m) => end('The consultation has ended', m.reason && m.reason !== 'ended' ? m.reason : '', { rate: true }));
  s.on('closed', ({ code, final, reason }) => {
    if (!final) {
      if (state.screen === 'call') $('reconnecting').hidden = false;
      return;
    }
    if (state.screen === 'ended') return;
    if (code === 4409) end('This consultation is open on another screen', reason || 'It was opened in another tab or on another device.');
    else if (code === 4404) end('The doctor did not let this device in', reason);
    else if (code === 4401) end('This link is not valid any more', 'Please ask the clinic to send you a new link.');
    else if (code === 4403) end('This link does not open a consultation here', reason);
    else if (code === 4410) end('The consultation has ended', reason, { rate: true });
    else if (code === 4415) end('This browser cannot take part in the video call', state.unsupported ||
      'Please open the link again in a current Chrome, Edge, Firefox or Safari.');
    else if (code === 4400) end('The video call could not start in this browser', (reason ? reason + '. ' : '') +
      'Please open the link again in a current Chrome, Edge, Firefox or Safari, or call the clinic.');
  });
  s.connect();
}

function onPeerState(pcState) {
  $('reconnecting').hidden = pcState !== 'disconnected' && pcState !== 'failed';
  clearTimeout(state.reconnectTimer);
  if (pcState === 'failed') state.signalling.send({ type: 'reconnect_media' });
  // A changed network leaves the connection "disconnected": give it a moment, then start again.
  if (pcState === 'disconnected')
    state.reconnectTimer = setTimeout(() => state.signalling.send({ type: 'reconnect_media' }), 5000);
}

function doctorMedia(m) {
  if (m.from && m.from !== 'doctor') return;
  const notes = [];
  if (m.audio === false) notes.push('The doctor has muted their microphone.');
  if (m.video === false) notes.push("The doctor's camera is off.");
  $('doctor-state').textContent = notes.join(' ');
  $('doctor-state').hidden = notes.length === 0;
}

function sendMedia() {
  state.signalling?.send({ type: 'media', audio: state.audio, video: state.video });
}

function addChat(m) {
  appendChat($('chat-log'), m, m.from === 'patient', 'Doctor');
  if ($('chat').hidden && m.from !== 'patient') $('chat-unread').hidden = false;
}

// ------------------------------------------------------------ controls

function wire() {
  $('play-sound').addEventListener('click', playTestSound);
  $('heard-sound').addEventListener('click', () => {
    state.speaker = 'ok';
    $('speaker-result').textContent = 'Speaker works';
  });
  $('camera-select').addEventListener('change', (e) => openDevices(e.target.value, $('mic-select').value));
  $('mic-select').addEventListener('change', (e) => openDevices($('camera-select').value, e.target.value));
  $('speaker-select').addEventListener('change', (e) => $('remote').setSinkId?.(e.target.value));
  $('continue').addEventListener('click', () => {
    sessionStorage.setItem('consult-precheck:' + state.token.slice(-24), JSON.stringify(precheckResult()));
    show('waiting');
    connect();
  });
  $('mute').addEventListener('click', () => {
    state.audio = !state.audio;
    for (const t of state.stream?.getAudioTracks() || []) t.enabled = state.audio;
    $('mute').setAttribute('aria-pressed', String(!state.audio));
    $('mute').textContent = state.audio ? 'Mute' : 'Unmute';
    sendMedia();
  });
  $('camera').addEventListener('click', () => {
    state.video = !state.video;
    for (const t of state.stream?.getVideoTracks() || []) t.enabled = state.video;
    $('camera').setAttribute('aria-pressed', String(!state.video));
    $('camera').textContent = state.video ? 'Camera off' : 'Camera on';
    sendMedia();
  });
  $('chat-toggle').addEventListener('click', () => {
    const open = $('chat').hidden;
    $('chat').hidden = !open;
    $('chat-toggle').setAttribute('aria-expanded', String(open));
    if (open) {
      $('chat-unread').hidden = true;
      $('chat-input').focus();
    }
  });
  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('chat-input').value.trim();
    if (!text) return;
    if (state.signalling?.send({ type: 'chat', text })) $('chat-input').value = '';
  });
  $('consent-yes').addEventListener('click', () => answerConsent(true));
  $('consent-no').addEventListener('click', () => answerConsent(false));
  $('withdraw').addEventListener('click', () => state.signalling.send({ type: 'consent', given: false }));
  $('leave').addEventListener('click', () => {
    state.signalling?.send({ type: 'leave' });
    end('You left the consultation', 'If this was a mistake, open the link from your message again.');
  });
}

// The rating after the call: one of five, an optional comment, sent once with the link's token.
function wireRating() {
  let score = 0;
  for (const b of document.querySelectorAll('#rating-scores button')) {
    b.addEventListener('click', () => {
      score = Number(b.dataset.score);
      for (const o of document.querySelectorAll('#rating-scores button')) o.setAttribute('aria-pressed', String(o === b));
      $('rating-send').disabled = false;
    });
  }
  $('rating-skip').addEventListener('click', () => { $('rating').hidden = true; });
  $('rating').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!score) return;
    $('rating-send').disabled = true;
    const comment = $('rating-comment').value.trim();
    let ok = false;
    try {
      const r = await fetch(`/api/video-consultations/sessions/${state.sessionId}/rating`, {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + state.token, 'Content-Type': 'application/json' },
        body: JSON.stringify(comment ? { score, comment } : { score }),
      });
      ok = r.ok || r.status === 409;
    } catch { /* shown below */ }
    if (ok) {
      $('rating').hidden = true;
      $('rating-thanks').hidden = false;
    } else {
      $('rating-error').hidden = false;
      $('rating-send').disabled = false;
    }
  });
}

// Asks the appliance whether this link still opens its consultation; false when the
// page has ended with the reason. A network problem is not a dead link: the page goes on
// and the signalling connection retries.
async function linkOpens() {
  let r;
  try {
    r = await fetch('/api/patient/link', { headers: { Authorization: 'Bearer ' + state.token }, cache: 'no-store' });
  } catch {
    return true;
  }
  if (r.ok) {
    const info = await r.json().catch(() => ({}));
    if (info.clinic) $('clinic').textContent = info.clinic;
    if (info.doctor) $('doctor-name').textContent = info.doctor;
    return true;
  }
  const body = await r.json().catch(() => ({}));
  const code = body.error?.code || '';
  if (code === 'session_cancelled') end('This consultation was cancelled', 'Please contact the clinic if you need a new appointment.');
  else if (r.status === 410) end('The consultation has ended', 'This link no longer opens it. Please contact the clinic if you need to talk again.');
  else if (r.status === 401) end('This link is not valid any more', 'Please ask the clinic to send you a new link.');
  else if (r.status === 403) end('This link does not open a consultation here', 'Please open the whole link from your text message or email.');
  else if (r.status === 429) end('Too many tries', 'Please wait a minute and open the link again.');
  else return true;
  return false;
}

async function main() {
  wire();
  wireRating();
  // The doctor's first picture since being let in: the appliance times the join.
  $('remote').addEventListener('loadeddata', () => state.signalling?.send({ type: 'first_frame' }));
  if (!state.token) {
    end('This link is incomplete', 'Please open the whole link from your text message or email.');
    return;
  }
  const why = unsupported();
  if (why) {
    $('unsupported-why').textContent = why;
    show('unsupported');
    return;
  }
  // The link first: a cancelled, finished or damaged link is said before the camera is asked for.
  if (!(await linkOpens())) return;
  const stream = await openDevices();
  if (prechecked()) {
    // A reload during the visit: straight back in.
    show('waiting');
    connect();
    return;
  }
  show('precall');
  if (stream) await fillPickers();
}

main();
