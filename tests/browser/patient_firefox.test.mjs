// The patient's side in Firefox ESR, as a patient without OpenH264 has it (Debian's
// firefox-esr: VP8 and Opus only): the invite link, the pre-call test, the waiting room,
// admission, the call both ways with the appliance encoding VP8 for this browser, chat,
// mute and camera off, the second camera, a reload back into the call, and leave.
// Driven by puppeteer-core over WebDriver BiDi; fake camera and microphone from Firefox's
// own prefs. Runs in the private network namespace (tests/media/run_in_netns.sh), whose
// default route on the veth lets Firefox gather its host candidates.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Appliance, test, until } from './lib/appliance.mjs';
import { launchFirefox } from './lib/firefox.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'patient-firefox');
mkdirSync(artifacts, { recursive: true });

let app, browser;

before(async () => {
  app = new Appliance(buildDir, ['--set', 'media.max_width=640', '--set', 'media.max_height=360', '--set', 'sessions.rejoin_seconds=30',
                                 '--set', 'media.content_camera=test']);
  await app.start();
  browser = await launchFirefox();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  if (app?.stderr && process.env.CONSULT_VERBOSE) console.log(app.stderr);
});

const state = (page) => page.evaluate(() => document.body.dataset.state);
// Frames Firefox decoded for the track a <video> shows (from the connection's stats:
// headless Firefox does not paint every frame of a muted picture).
const framesOf = (page, id) => page.evaluate(async (id) => {
  const track = document.getElementById(id).srcObject?.getVideoTracks()[0];
  const pc = window.consultPatient?.peer?.pc;
  if (!track || !pc) return 0;
  let frames = 0;
  const stats = await pc.getStats();
  stats.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video' && r.trackIdentifier === track.id) frames = r.framesDecoded || 0;
  });
  if (frames) return frames;
  // Older Firefox: the receiver's own stats.
  const receiver = pc.getReceivers().find((x) => x.track === track);
  (await receiver.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') frames = r.framesDecoded || 0; });
  return frames;
}, id);

// What Firefox's RTCPeerConnection decodes, and with which codec.
const inbound = (page) => page.evaluate(async () => {
  const pc = window.consultPatient?.peer?.pc;
  if (!pc) return null;
  const out = { framesDecoded: 0, audioEnergy: 0, bytesAudio: 0, videoCodec: '', connection: pc.connectionState };
  const stats = await pc.getStats();
  stats.forEach((r) => {
    if (r.type !== 'inbound-rtp') return;
    if (r.kind === 'video') {
      out.framesDecoded = r.framesDecoded || 0;
      const codec = r.codecId && stats.get(r.codecId);
      if (codec) out.videoCodec = codec.mimeType;
    }
    if (r.kind === 'audio') { out.audioEnergy = r.totalAudioEnergy || 0; out.bytesAudio = r.bytesReceived || 0; }
  });
  return out;
});

test('a Firefox patient without H.264 joins, is admitted, and the call runs both ways in VP8', { timeout: 300000 }, async () => {
  const s = await app.session();
  const doctor = await app.doctorSocket(s.id);
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') console.log('[firefox console]', m.text()); });
  // Through the short link a patient can type (it forwards to /v/<room>#t=<a fresh token>).
  await page.goto(s.short);

  await until('the pre-call screen', async () => (await state(page)) === 'precall', 30000);
  assert.ok(page.url().includes(`/v/${s.room}#t=`), page.url());
  await until('the camera preview to play', () => page.evaluate(() => document.getElementById('preview').videoWidth > 0), 20000);
  // The meter needs a running AudioContext, which Firefox starts only with a sound output;
  // this machine has none, so the meter may stay still: the patient can go on anyway
  // (the doctor then sees the microphone as "skipped", never as "failed").
  await page.click('#preview');
  await page.click('#play-sound');
  await page.click('#heard-sound');
  await page.click('#continue');
  await until('the waiting screen', async () => (await state(page)) === 'waiting', 20000);
  const room = await doctor.next('the waiting room with a pre-call result',
    (m) => m.type === 'waiting_room' && m.patients[0]?.precheck?.camera === 'ok');
  assert.ok(['ok', 'skipped'].includes(room.patients[0].precheck.microphone), JSON.stringify(room.patients[0].precheck));

  const admitted = Date.now();
  await app.admit(s.id);
  await until('the call screen', async () => (await state(page)) === 'call', 20000);
  const first = await until('the room video decoded in Firefox', async () => {
    const st = await inbound(page);
    return st && st.framesDecoded > 0 ? st : null;
  }, 30000);
  const firstFrameMs = Date.now() - admitted;
  assert.equal(first.videoCodec, 'video/VP8', 'Firefox without OpenH264 gets the VP8 fallback');
  // Firefox's page reports its first picture: the appliance's join measures count it.
  await until('the first frame in /metrics', async () => /\nconsult_admit_to_first_frame_seconds_count\{side="patient"\} [1-9]/
    .test(await (await fetch(`${app.base}/metrics`)).text()), 20000);
  await until('frames advancing', async () => (await inbound(page)).framesDecoded > first.framesDecoded + 20, 20000);
  // Bytes, not energy: with no sound output Firefox decodes but does not play the audio.
  const audio = (await inbound(page)).bytesAudio;
  await until('the room audio reaching Firefox', async () => (await inbound(page)).bytesAudio > audio + 2000, 20000);
  const quality = await doctor.next('the appliance decoding Firefox', (m) => m.type === 'quality' && m.frames_decoded > 10 &&
                                    m.audio_decoded > 10 && m.width > 0, 30000);
  assert.ok(quality.audio_level > 0, "Firefox's fake microphone must reach the appliance");
  assert.equal(await app.status(s.id), 'in-progress');
  await page.screenshot({ path: join(artifacts, 'call.png') });
  console.log(`firefox: admit -> first decoded frame ${firstFrameMs} ms`);

  // Chat both ways.
  await page.click('#chat-toggle');
  await page.type('#chat-input', 'Hello from Firefox');
  await page.click('#chat-form button[type=submit]');
  const chat = await doctor.next('the patient chat', (m) => m.type === 'chat' && m.from === 'patient');
  assert.equal(chat.text, 'Hello from Firefox');
  doctor.send({ type: 'chat', text: 'Hello, Firefox' });
  await until('the doctor chat on the page', () => page.evaluate(() =>
    [...document.querySelectorAll('#chat-log li')].some((li) => li.textContent.includes('Hello, Firefox'))));

  // Mute and camera-off reach the doctor; the doctor's reach the page.
  await page.click('#mute');
  await doctor.next('the patient muted', (m) => m.type === 'peer_media' && m.audio === false);
  await page.click('#camera');
  await doctor.next('the patient camera off', (m) => m.type === 'peer_media' && m.video === false);
  await page.click('#mute');
  await page.click('#camera');
  await doctor.next('the patient back on', (m) => m.type === 'peer_media' && m.audio && m.video);
  doctor.send({ type: 'media', audio: false, video: true });
  await until('the page to show the doctor muted', () => page.evaluate(() =>
    !document.getElementById('doctor-state').hidden && document.getElementById('doctor-state').textContent.includes('muted')));
  doctor.send({ type: 'media', audio: true, video: true });
  await until('the notice to go', () => page.evaluate(() => document.getElementById('doctor-state').hidden));

  // The second camera: a new VP8 stream by renegotiation on the same connection.
  doctor.send({ type: 'share', on: true });
  const shared = await doctor.next('the appliance to answer the share', (m) => (m.type === 'content' && m.on) || m.type === 'error');
  assert.equal(shared.type, 'content', JSON.stringify(shared));
  await until('the shared camera decoded in Firefox', () => page.evaluate(() => document.getElementById('content').videoWidth > 0), 30000);
  const sharedFrames = await framesOf(page, 'content');
  await until('the shared camera playing', async () => (await framesOf(page, 'content')) > sharedFrames + 10, 20000);
  doctor.send({ type: 'share', on: false });
  await until('the shared camera gone', () => page.evaluate(() => document.getElementById('content').hidden));

  // A reload comes straight back into the call, without the waiting room.
  await page.reload();
  await until('the call screen after a reload', async () => (await state(page)) === 'call', 30000);
  const again = await until('the room video after the reload', async () => {
    const st = await inbound(page);
    return st && st.framesDecoded > 10 ? st : null;
  }, 30000).catch(async (err) => {
    err.message += '\npage: ' + await page.evaluate(async () => {
      const p = window.consultPatient;
      const pc = p?.peer?.pc;
      const rtp = [];
      if (pc) (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') rtp.push(`${r.kind} packets ${r.packetsReceived} decoded ${r.framesDecoded}`); });
      return JSON.stringify({ screen: p?.screen, pc: !!pc, connection: pc?.connectionState, signaling: pc?.signalingState,
                              ice: pc?.iceConnectionState, rtp });
    });
    throw err;
  });
  assert.equal(again.videoCodec, 'video/VP8');
  assert.equal((await app.participants(s.id)).filter((p) => p.user_type === 'patient').length, 1, 'the rejoin reuses the participant row');

  // Leave ends the participant row; the doctor hears of it; no reconnect loop.
  await page.click('#leave');
  await until('the ended screen', async () => (await state(page)) === 'ended', 15000);
  await until('the patient row to be closed', async () =>
    (await app.participants(s.id)).filter((p) => p.user_type === 'patient').every((p) => p.left_at));
  await doctor.next('the empty waiting room', (m) => m.type === 'waiting_room' && m.patients.length === 0);
  await page.screenshot({ path: join(artifacts, 'ended.png') });
  doctor.ws.close();
  await page.close();
});

// Dead links in Firefox: checked before the camera test, so the camera is never asked for.
test('in Firefox a damaged or cancelled link says so before the camera test', { timeout: 120000 }, async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${app.base}/v/some-room#t=not.a.token`);
    await until('the invalid-link screen', async () => (await state(page)) === 'ended', 20000);
    assert.match(await page.evaluate(() => document.getElementById('ended-title').textContent), /not valid/);
    assert.equal(await page.evaluate(() => window.consultPatient.stream), null, 'the camera was not asked for');
    const s = await app.session();
    await app.must('POST', `/api/video-consultations/sessions/${s.id}/cancel`, app.doctor, {}, 200);
    await page.goto(`${app.base}/v/${s.room}#t=${s.token}`);
    await until('the cancelled screen', async () =>
      (await state(page)) === 'ended' && /cancelled/.test(await page.evaluate(() => document.getElementById('ended-title').textContent)), 20000);
    assert.equal(await page.evaluate(() => window.consultPatient.stream), null, 'the camera was not asked for');
  } finally {
    await page.close();
  }
});

// At the appliance's own size (1280x720), a call whose only screen takes VP8 is sent
// 960x540 (that the camera itself then captures 960x540 is the media test's
// CallFixture.TheVp8FallbackIsKeptAt540LinesAndTheCameraFollowsIt).
test('at 1280x720, a Firefox-only call gets VP8 at 960x540', { timeout: 180000 }, async () => {
  const big = new Appliance(buildDir, []);
  await big.start();
  const page = await browser.newPage();
  try {
    const s = await big.session();
    await page.goto(`${big.base}/v/${s.room}#t=${s.token}`);
    await until('the pre-call screen', async () => (await state(page)) === 'precall', 30000);
    await page.click('#continue');
    await until('the waiting screen', async () => (await big.status(s.id)) === 'waiting', 20000);
    await big.admit(s.id);
    const size = await until('the room video decoded at its size', () => page.evaluate(async () => {
      const pc = window.consultPatient?.peer?.pc;
      let out = null;
      if (pc) (await pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video' && r.framesDecoded > 5 && r.frameWidth) out = `${r.frameWidth}x${r.frameHeight}`;
      });
      return out;
    }), 30000);
    assert.equal(size, '960x540');
    const first = (await inbound(page)).framesDecoded;
    await until('frames advancing', async () => (await inbound(page)).framesDecoded > first + 30, 20000);
  } finally {
    await page.close();
    await big.stop();
  }
});
