// One consultation on the kiosk: its signalling socket (the doctor "in" the waiting
// room), the waiting list, Admit/Decline, and the call itself. The kiosk is a
// receive-only WebRTC peer (docs/signalling.md `view`): the patient's video as the
// appliance forwards it and the room's self-view; the patient's voice plays on the
// room speaker inside consultd, so nothing here plays audio.
import { Signalling } from '/ui/shared/signalling.js';
import { AnsweringPeer } from '/ui/shared/peer.js';
import { appendChat } from '/ui/shared/chat.js';

const $ = (id) => document.getElementById(id);
const VIEW_FALLBACK_MS = 8000;      // send `view` even if the patient's stream has not been seen by then
const STALL_CHECKS = 3;             // × 3 s without a new patient frame → ask for fresh media
const RECONNECT_GAP_MS = 15000;

export class Room extends EventTarget {
  constructor(app, { sessionId, patientName, appointment }) {
    super();
    this.app = app;
    this.sessionId = sessionId;
    this.patientName = patientName;
    this.appointment = appointment;
    this.status = 'scheduled';
    this.patients = [];
    this.signalling = null;
    this.peer = null;
    this.iceServers = [];
    this.viewSent = false;
    this.viewTimer = 0;
    this.statsTimer = 0;
    this.lastFrames = -1;
    this.stalls = 0;
    this.lastReconnect = 0;
    this.patientConnected = null;
    this.audio = true;
    this.video = true;
    this.chat = [];
    this.startedAt = null;
    this.ended = null;
    this.selfStream = new MediaStream();
    this.patientStream = new MediaStream();
    this.callFailed = '';
    this.content = { available: false, on: false };
    this.recording = { state: 'off', consent: 'none' };
  }

  open() {
    const s = new Signalling(this.app.token, { session: this.sessionId });
    this.signalling = s;
    s.on('welcome', (m) => {
      this.iceServers = m.ice_servers || [];
      if (m.session?.status) this.setStatus(m.session.status);
      $('chat-log').replaceChildren();
      this.chat = [];
      for (const c of m.chat || []) this.addChat(c);
      if (m.peer_media) this.patientMedia(m.peer_media);
      if (m.content) this.content = { available: !!m.content.available, on: !!m.content.on };
      this.sendMedia();
    });
    s.on('waiting_room', (m) => {
      if (m.session !== this.sessionId) return;
      this.patients = m.patients || [];
      if (m.status) this.setStatus(m.status);
      this.onPatientPresence();
      this.emit('changed');
    });
    s.on('state', (m) => { if (m.session === this.sessionId) this.setStatus(m.status); });
    s.on('offer', (m) => this.onOffer(m.sdp, m.streams));
    s.on('content', (m) => {
      this.content.on = !!m.on;
      this.notice('content', m.reason ? `Content camera: ${m.reason}.` : '');
      this.emit('changed');
    });
    s.on('ice', (m) => this.peer && this.peer.onCandidate(m.candidate, m.mline));
    s.on('chat', (m) => this.addChat(m));
    s.on('peer_media', (m) => this.patientMedia(m));
    s.on('quality', (m) => this.onQuality(m));
    s.on('audio_only', (m) => this.notice('audio', m.on ? "The patient's connection is too weak for video: audio only for now. Video comes back by itself." : ''));
    s.on('camera', (m) => this.notice('camera', m.available ? '' : "The room camera stopped: the patient sees a 'camera unavailable' picture. Check the camera's cable; it is picked up again by itself."));
    s.on('media_notice', (m) => this.notice(`media-${m.peer}`, m.message));
    s.on('recording', (m) => this.onRecording(m));
    s.on('error', (m) => this.app.toast(m.message || 'The appliance refused that.'));
    s.on('ended', (m) => { this.ended = m.reason || 'ended'; });
    s.on('closed', ({ code, reason, final }) => this.onClosed(code, reason, final));
    s.connect();
  }

  emit(type) { this.dispatchEvent(new CustomEvent(type)); }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    if (status === 'in-progress') this.callStarted();
    this.emit('changed');
  }

  // ---------------------------------------------------------------- waiting room

  admit() { this.signalling.send({ type: 'admit' }); }
  decline() { this.signalling.send({ type: 'decline', reason: 'declined by the doctor' }); }
  end() { this.signalling.send({ type: 'end', reason: 'ended by the doctor' }); }

  onPatientPresence() {
    // The screen in the call (or in its rejoin window) comes first; others wait.
    const inCall = this.patients.find((x) => x.in_call);
    const waiting = this.patients.some((x) => !x.in_call && x.connected);
    const connected = !!inCall?.connected;
    if (this.status === 'in-progress') {
      let text = '';
      if (inCall && !connected) text = "The patient's connection dropped. They can come back by themselves for a short while; please wait.";
      else if (!inCall && waiting) text = 'The patient is waiting to be let back into the call: open the waiting room to admit them.';
      else if (!inCall) text = 'The patient is not in the call.';
      this.notice('presence', text);
      // Back after a drop: their media is new, so this screen's forwarded copy must be too.
      if (connected && this.patientConnected === false && this.viewSent) setTimeout(() => this.reconnectMedia(true), 3000);
    }
    if (inCall) this.patientConnected = connected;
  }

  // ---------------------------------------------------------------- the call

  callStarted() {
    this.app.api.get(`/api/video-consultations/sessions/${this.sessionId}`).then((s) => {
      this.startedAt = s.started_at ? Date.parse(s.started_at) : Date.now();
    }).catch(() => { this.startedAt = this.startedAt || Date.now(); });
    this.startedAt = this.startedAt || Date.now();
    // The forwarded stream exists once the appliance has the patient's video: wait for
    // the first report that it decodes it, or a few seconds at most.
    clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => this.requestView(), VIEW_FALLBACK_MS);
  }

  requestView() {
    clearTimeout(this.viewTimer);
    if (this.viewSent || this.status !== 'in-progress') return;
    this.viewSent = this.signalling.send({ type: 'view' });
    clearInterval(this.statsTimer);
    this.statsTimer = setInterval(() => this.watchFrames(), 3000);
  }

  reconnectMedia(force = false) {
    const now = Date.now();
    if (!force && now - this.lastReconnect < RECONNECT_GAP_MS) return;
    if (this.status !== 'in-progress') return;
    this.lastReconnect = now;
    this.stalls = 0;
    this.lastFrames = -1;
    this.signalling.send(this.peer ? { type: 'reconnect_media' } : { type: 'view' });
    this.viewSent = true;
  }

  async onOffer(sdp, streams) {
    if (!this.peer) {
      this.peer = new AnsweringPeer(this.signalling, this.iceServers, null);
      this.peer.addEventListener('track', (e) => this.onTrack(e.detail));
      this.peer.addEventListener('state', (e) => {
        if (e.detail === 'failed') this.reconnectMedia();
        this.emit('changed');
      });
    }
    try {
      await this.peer.onOffer(sdp, streams);
    } catch (err) {
      console.error('answer failed', err);
      this.reconnectMedia(true);
    }
  }

  // The offer names what each m-line carries (`streams`): the room's own camera
  // (self-view), the patient's video as forwarded, the shared content camera.
  onTrack(e) {
    if (e.track.kind !== 'video') return;
    const transceivers = this.peer.pc.getTransceivers();
    const videos = transceivers.filter((t) => t.receiver.track.kind === 'video');
    const what = this.peer.streamOf(e.transceiver) || (videos.indexOf(e.transceiver) === 0 ? 'room' : 'patient');
    const stream = new MediaStream([e.track]);
    if (what === 'room') {
      this.selfStream = stream;
      $('self-video').srcObject = stream;
    } else if (what === 'content') {
      $('content-video').srcObject = stream;
    } else {
      this.patientStream = stream;
      this.patientTrack = e.track;
      $('patient-video').srcObject = stream;
      // The patient's first picture: the appliance times the join (repeats are ignored).
      $('patient-video').addEventListener('loadeddata', () => this.signalling?.send({ type: 'first_frame' }), { once: true });
      this.lastFrames = -1;
      this.stalls = 0;
    }
    this.emit('changed');
  }

  async patientFrames() {
    if (!this.peer?.pc || !this.patientTrack) return null;
    let frames = null;
    (await this.peer.pc.getStats(this.patientTrack)).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') frames = r.framesDecoded || 0;
    });
    return frames;
  }

  async watchFrames() {
    if (this.status !== 'in-progress') return;
    let frames = null;
    try { frames = await this.patientFrames(); } catch { frames = null; }
    const advanced = frames !== null && frames > this.lastFrames;
    if (frames !== null) this.lastFrames = Math.max(this.lastFrames, frames);
    if (advanced || this.patientConnected === false) {
      this.stalls = 0;
      return;
    }
    if (++this.stalls >= STALL_CHECKS) this.reconnectMedia();
  }

  onQuality(m) {
    if (m.peer !== 'patient') return;
    if (!this.viewSent && m.frames_decoded > 0) this.requestView();
    this.quality = m.level;
    this.notice('quality', m.level === 'poor'
      ? "The patient's connection is poor: their picture may freeze. If it stays poor, ask them to move closer to their Wi-Fi or switch to mobile data." : '');
    this.emit('changed');
  }

  // ---------------------------------------------------------------- controls and chat

  toggleMute() {
    this.audio = !this.audio;
    this.sendMedia();
    this.emit('changed');
  }

  toggleCamera() {
    this.video = !this.video;
    this.sendMedia();
    this.emit('changed');
  }

  // Record asks the patient first (docs/signalling.md "Recording"); the appliance says
  // what came of it: asking, on, off, or why not.
  toggleRecording() {
    const on = this.recording.state === 'off';
    this.signalling.send({ type: 'record', on });
  }

  onRecording(m) {
    if (m.session && m.session !== this.sessionId) return;
    const was = this.recording.state;
    this.recording = { state: m.state || 'off', consent: m.consent || this.recording.consent };
    // A message stays until the next one (a withdrawal's is followed by the file closing);
    // the question's note goes once it is answered.
    if (m.message) this.notice('recording', m.message);
    else if (m.state === 'asking') this.notice('recording', 'The patient is being asked to agree to recording.');
    else if (m.state === 'on' || was === 'asking') this.notice('recording', '');
    this.emit('changed');
  }

  toggleContent() {
    if (this.content.available) this.signalling.send({ type: 'share', on: !this.content.on });
  }

  sendMedia() { this.signalling?.send({ type: 'media', audio: this.audio, video: this.video }); }

  patientMedia(m) {
    if (m.from && m.from !== 'patient') return;
    this.patientAudio = m.audio !== false;
    this.patientVideo = m.video !== false;
    this.emit('changed');
  }

  sendChat(text) { return this.signalling.send({ type: 'chat', text }); }

  addChat(m) {
    this.chat.push(m);
    appendChat($('chat-log'), m, m.from === 'doctor', this.patientName || 'Patient');
    if ($('chat').hidden && m.from !== 'doctor') $('chat-unread').hidden = false;
  }

  // ---------------------------------------------------------------- notices and the end

  notice(kind, text) {
    this.notices = this.notices || {};
    this.notices[kind] = text;
    const shown = Object.values(this.notices).filter(Boolean);
    $('call-notice').textContent = shown.join(' ');
    $('call-notice').hidden = shown.length === 0;
  }

  onClosed(code, reason, final) {
    if (this.finished || (!final && code !== 4503)) return;      // reconnects by itself
    if (code === 4503) {
      this.callFailed = 'The call could not start: the room camera or the video encoder is not ready. ' +
        'Wait a minute and tap Start again; if it keeps failing, restart the appliance or call clinic IT.';
      this.signalling.close();
    } else if (code === 4401) {
      this.app.signOut('expired');
      return;
    } else if (code === 4403) {
      this.callFailed = reason || 'The appliance refused this consultation on this screen.';
    } else if (code === 4400 || code === 4415) {
      this.callFailed = `This screen's browser could not take part in the call (${reason || 'its answer was refused'}). ` +
        'Restart the appliance; if it keeps happening, call clinic IT.';
    } else if (code === 4410 || code === 1000) {
      this.ended = this.ended || reason || 'ended';
    }
    this.close();
    this.emit('closed');
  }

  close() {
    this.finished = true;
    clearTimeout(this.viewTimer);
    clearInterval(this.statsTimer);
    this.peer?.close();
    this.peer = null;
    this.signalling?.close();
    for (const v of [$('self-video'), $('patient-video'), $('content-video')]) v.srcObject = null;
  }
}
