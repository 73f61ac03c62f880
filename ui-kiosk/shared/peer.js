// The browser's side of a call: the appliance offers, this page answers. Local
// tracks go on the transceivers the offer created; candidates go both ways.
export class AnsweringPeer extends EventTarget {
  constructor(signalling, iceServers, localStream) {
    super();
    this.signalling = signalling;
    this.iceServers = iceServers || [];
    this.localStream = localStream;
    this.pc = null;
    this.remoteStream = new MediaStream();
    this.streams = [];   // what each m-line carries, from the offer message (docs/signalling.md)
    this.answering = Promise.resolve();
  }

  // "room", "room-audio", "content" or "patient" for one of this connection's transceivers.
  streamOf(transceiver) {
    return this.pc ? this.streams[this.pc.getTransceivers().indexOf(transceiver)] : undefined;
  }

  // Offers are answered one at a time, in the order they came: an offer that arrives
  // while the previous one is still being answered (a stream added at that moment)
  // waits for it, and each is answered with its own list of streams.
  onOffer(sdp, streams = []) {
    const run = this.answering.then(() => this.answer(sdp, streams));
    this.answering = run.catch(() => {});
    return run;
  }

  async answer(sdp, streams) {
    this.streams = Array.isArray(streams) ? streams : [];
    // A new offer on the same ICE session (the appliance added a stream) is answered
    // on the same connection; any other offer starts a new one.
    const ufrag = (text) => (/a=ice-ufrag:(\S+)/.exec(text || '') || [])[1];
    if (this.pc && ufrag(sdp) && ufrag(sdp) === ufrag(this.pc.remoteDescription?.sdp)) {
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      await this.attachLocal(this.pc);
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      this.signalling.send({ type: 'answer', sdp: this.pc.localDescription.sdp });
      return;
    }
    this.close();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle' });
    this.pc = pc;
    this.remoteStream = new MediaStream();
    pc.addEventListener('track', (e) => {
      this.dispatchEvent(new CustomEvent('track', { detail: e }));
      this.remoteStream.addTrack(e.track);
      this.dispatchEvent(new CustomEvent('remote', { detail: this.remoteStream }));
    });
    pc.addEventListener('icecandidate', (e) => {
      this.signalling.send({ type: 'ice', candidate: e.candidate ? e.candidate.candidate : '',
                             mline: e.candidate ? (e.candidate.sdpMLineIndex ?? 0) : 0 });
    });
    pc.addEventListener('connectionstatechange', () => {
      this.dispatchEvent(new CustomEvent('state', { detail: pc.connectionState }));
    });
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await this.attachLocal(pc);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.signalling.send({ type: 'answer', sdp: pc.localDescription.sdp });
  }

  // Local tracks on the room's own transceivers (the first of each kind when the
  // offer did not say); the rest — the shared camera, a forwarded patient — only receive.
  async attachLocal(pc) {
    const used = new Set();
    for (const [i, t] of pc.getTransceivers().entries()) {
      if (t.currentDirection === 'stopped') continue;
      const kind = t.receiver.track.kind;
      const label = this.streams[i];
      const ours = label ? label === 'room' || label === 'room-audio' : !used.has(kind);
      used.add(kind);
      const track = ours && this.localStream && this.localStream.getTracks().find((x) => x.kind === kind);
      if (track) {
        await t.sender.replaceTrack(track);
        t.direction = 'sendrecv';
      } else {
        t.direction = 'recvonly';
      }
    }
  }

  async onCandidate(candidate, mline) {
    if (!this.pc || !candidate) return;
    try {
      await this.pc.addIceCandidate({ candidate, sdpMLineIndex: mline });
    } catch (err) {
      console.warn('ICE candidate refused', err);
    }
  }

  // Replaces the camera or microphone (device picker) without renegotiating.
  async replaceTrack(track) {
    if (!this.pc) return;
    for (const s of this.pc.getSenders()) if (s.track && s.track.kind === track.kind) await s.replaceTrack(track);
  }

  close() {
    if (this.pc) this.pc.close();
    this.pc = null;
  }
}
