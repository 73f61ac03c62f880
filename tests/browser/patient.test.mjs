// The patient's side, end to end: headless Chromium with a fake camera and
// microphone opens the invite link, passes the pre-call test, waits, is admitted over
// the REST API, and the call runs both ways through consultd's webrtcbin.
// Runs inside a private network namespace (tests/media/run_in_netns.sh): libnice and
// Chromium ignore loopback for ICE, so media goes over the namespace's veth pair.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Appliance, test, launchBrowser, inboundStats, until } from './lib/appliance.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'patient');
mkdirSync(artifacts, { recursive: true });

let app, browser;
const thirdParty = [];

before(async () => {
  app = new Appliance(buildDir, ['--set', 'media.max_width=640', '--set', 'media.max_height=360', '--set', 'sessions.rejoin_seconds=30',
                                 '--set', 'media.content_camera=test']);
  await app.start();
  browser = await launchBrowser();
});

after(async () => {
  assert.deepEqual(thirdParty, [], 'the patient page made requests to third parties');
  await browser?.close();
  await app?.stop();
  if (app?.stderr && process.env.CONSULT_VERBOSE) console.log(app.stderr);
});

async function openInvite(s, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('[patient page error]', e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log('[patient console]', m.text()); });
  // Nothing but this appliance: no fonts, scripts or beacons from anyone else.
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(app.base) && !url.startsWith('data:') && !url.startsWith('blob:')) thirdParty.push(url);
  });
  // The invite as sent, pointed at this appliance's port.
  await page.goto(`${app.base}/v/${s.room}#t=${s.token}`);
  return { context, page };
}

const state = (page) => page.evaluate(() => document.body.dataset.state);

// How bright a <video> looks now (0-255), drawn to a canvas.
const brightness = (page, id) => page.evaluate((id) => {
  const v = document.getElementById(id);
  if (!v.videoWidth) return 0;
  const c = document.createElement('canvas');
  c.width = 64; c.height = 36;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0, 64, 36);
  const px = g.getImageData(0, 0, 64, 36).data;
  let sum = 0;
  for (let i = 0; i < px.length; i += 4) sum += (px[i] + px[i + 1] + px[i + 2]) / 3;
  return sum / (px.length / 4);
}, id);

async function passPrecall(page) {
  await until('the pre-call screen', async () => (await state(page)) === 'precall');
  await until('the camera preview to play', () => page.evaluate(() => document.getElementById('preview').videoWidth > 0));
  await until('the microphone meter to move', () => page.evaluate(() => window.consultPatient.micHeard), 10000);
  await page.click('#play-sound');
  await page.click('#heard-sound');
  await page.screenshot({ path: join(artifacts, 'precall.png') });
  await page.click('#continue');
}

async function framesAdvance(page, what) {
  const first = await until(`${what}: first decoded frame`, async () => {
    const s = await inboundStats(page);
    return s && s.framesDecoded > 0 ? s : null;
  }, 20000).catch(async (err) => {
    err.message += '\npage: ' + await page.evaluate(() => {
      const p = window.consultPatient;
      const pc = p?.peer?.pc;
      return JSON.stringify({ screen: p?.screen, peer: !!p?.peer, pc: !!pc, connection: pc?.connectionState,
                              signaling: pc?.signalingState, ice: pc?.iceConnectionState, streams: p?.peer?.streams });
    });
    throw err;
  });
  return until(`${what}: frames advancing`, async () => {
    const s = await inboundStats(page);
    return s && s.framesDecoded > first.framesDecoded + 10 ? s : null;
  }, 15000);
}

test('a patient joins, waits, is admitted, and the call runs both ways', { timeout: 420000 }, async () => {
  const s = await app.session();
  const doctor = await app.doctorSocket(s.id);
  const { context, page } = await openInvite(s);
  await passPrecall(page);

  // Waiting room: the page says so, the session says so, the doctor sees the pre-call result.
  await until('the waiting screen', async () => (await state(page)) === 'waiting');
  await until('the session to be waiting', async () => (await app.status(s.id)) === 'waiting');
  const room = await doctor.next('the waiting room with a pre-call result',
    (m) => m.type === 'waiting_room' && m.patients[0]?.precheck?.camera === 'ok');
  assert.equal(room.patients[0].precheck.microphone, 'ok');
  assert.equal(room.patients[0].precheck.speaker, 'ok');
  await page.screenshot({ path: join(artifacts, 'waiting.png') });

  // Admit over REST: the browser decodes the room's video and audio.
  await app.admit(s.id);
  await until('the call screen', async () => (await state(page)) === 'call');
  const stats = await framesAdvance(page, 'the room video in the browser');
  assert.ok(stats.frameWidth > 0);
  await until('the room audio in the browser', async () => ((await inboundStats(page)).audioEnergy > 0), 15000);
  await until('the remote <video> to play', () => page.evaluate(() => document.getElementById('remote').videoWidth > 0));
  // ... and the appliance decodes the browser's camera and microphone.
  const quality = await doctor.next('the appliance decoding the patient', (m) => m.type === 'quality' && m.frames_decoded > 10 &&
                                    m.audio_decoded > 10 && m.width > 0, 30000);
  assert.ok(quality.audio_level > 0, 'the fake microphone beeps: its level must reach the appliance');
  assert.equal(await app.status(s.id), 'in-progress');
  await page.screenshot({ path: join(artifacts, 'call.png') });
  // The engine's view of the link is kept on the participant and exported as metrics.
  // The row is written at most every 10 s, so the first one may predate the first frame.
  const row = await until('connection quality with a picture on the patient row', async () =>
    (await app.participants(s.id)).find((p) => p.user_type === 'patient' && p.connection_quality?.width > 0), 30000);
  assert.ok(['good', 'fair', 'poor'].includes(row.connection_quality.level));
  const metrics = await (await fetch(`${app.base}/metrics`)).text();
  assert.match(metrics, /^consult_calls [1-9]/m);
  assert.match(metrics, new RegExp(`consult_peer_rtt_ms\\{session="${s.id}",peer="patient"\\}`));

  // A network change: the page asks for a fresh connection and media flows again.
  const oldPc = await page.evaluate(() => { window.__oldPc = window.consultPatient.peer.pc; return true; });
  assert.ok(oldPc);
  await page.evaluate(() => window.consultPatient.signalling.send({ type: 'reconnect_media' }));
  await until('a new peer connection', () => page.evaluate(() => window.consultPatient.peer.pc !== window.__oldPc));
  await framesAdvance(page, 'the room video after reconnecting media');

  // Mute and camera-off reach the doctor; the doctor's reach the page.
  await page.click('#mute');
  const muted = await doctor.next('the patient muted', (m) => m.type === 'peer_media' && m.audio === false);
  assert.equal(muted.from, 'patient');
  await page.click('#camera');
  await doctor.next('the patient camera off', (m) => m.type === 'peer_media' && m.video === false);
  await page.click('#mute');
  await page.click('#camera');
  await doctor.next('the patient back on', (m) => m.type === 'peer_media' && m.audio && m.video);
  doctor.send({ type: 'media', audio: false, video: false });
  await until('the page to show the doctor muted', () => page.evaluate(() =>
    !document.getElementById('doctor-state').hidden && document.getElementById('doctor-state').textContent.includes('muted')));
  // The room's picture is the "camera off" slate (dark) meanwhile, and comes back.
  await until('the dark camera-off slate', async () => (await brightness(page, 'remote')) < 40, 10000);
  doctor.send({ type: 'media', audio: true, video: true });
  await until('the notice to go', () => page.evaluate(() => document.getElementById('doctor-state').hidden));
  await until('the room picture back', async () => (await brightness(page, 'remote')) > 80, 10000);

  // Chat both ways.
  await page.click('#chat-toggle');
  await page.fill('#chat-input', 'I can see you');
  await page.click('#chat-form button[type=submit]');
  const chat = await doctor.next('the patient chat', (m) => m.type === 'chat' && m.from === 'patient');
  assert.equal(chat.text, 'I can see you');
  doctor.send({ type: 'chat', text: 'Great, <b>not bold</b> & safe' });
  await until('the doctor chat on the page', () => page.evaluate(() =>
    [...document.querySelectorAll('#chat-log li')].some((li) => li.textContent.includes('<b>not bold</b> & safe'))));
  await page.screenshot({ path: join(artifacts, 'chat.png') });

  // The doctor shows the second camera: it fills the patient's screen; the room moves aside.
  // In stages, so that a failure says which one broke: the appliance agrees, the page
  // is told, the new stream arrives on the page, and its pictures are decoded.
  doctor.send({ type: 'share', on: true });
  const shared = await doctor.next('the appliance to answer the share', (m) => (m.type === 'content' && m.on) || m.type === 'error');
  assert.equal(shared.type, 'content', JSON.stringify(shared));
  await until('the page told of the share', () => page.evaluate(() =>
    !document.getElementById('content').hidden && document.querySelector('.stage').classList.contains('sharing')));
  await until('the shared camera track on the page', () => page.evaluate(() =>
    document.getElementById('content').srcObject?.getVideoTracks().length > 0), 20000);
  await until('the shared camera decoded on the page', () => page.evaluate(() => document.getElementById('content').videoWidth > 0), 20000)
    .catch(async (err) => {
      // What the connection received for each stream says which stage is missing.
      err.message += '\n' + await page.evaluate(async () => {
        const out = [];
        (await window.consultPatient.peer.pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp') out.push(`${r.mid} ${r.kind} ssrc ${r.ssrc} packets ${r.packetsReceived} decoded ${r.framesDecoded} keyframes ${r.keyFramesDecoded} pli ${r.pliCount}`);
        });
        const pc = window.consultPatient.peer.pc;
        const pick = (sdp) => sdp.split('\r\n').filter((l) => /^(m=|a=mid|a=group|a=ssrc:.*cname|a=send|a=recv|a=inactive)/.test(l)).join(' | ');
        out.push('local: ' + pick(pc.localDescription.sdp), 'remote: ' + pick(pc.remoteDescription.sdp));
        out.push('transceivers: ' + pc.getTransceivers().map((t) => `${t.mid}:${t.currentDirection}`).join(' '));
        return out.join('\n');
      });
      throw err;
    });
  const sharedFrames = await page.evaluate(() => document.getElementById('content').getVideoPlaybackQuality().totalVideoFrames);
  await until('the shared camera playing', () => page.evaluate((n) =>
    document.getElementById('content').getVideoPlaybackQuality().totalVideoFrames > n + 10, sharedFrames));
  await page.screenshot({ path: join(artifacts, 'sharing.png') });
  assert.ok((await brightness(page, 'remote')) > 80, 'the room picture stays in its corner while sharing');
  doctor.send({ type: 'share', on: false });
  await until('the shared camera gone', () => page.evaluate(() => document.getElementById('content').hidden));

  // A reload comes straight back into the call, without the waiting room.
  const seen = [];
  page.on('framenavigated', () => seen.length = 0);
  await page.reload();
  await page.evaluate(() => {
    window.__states = [];
    new MutationObserver(() => window.__states.push(document.body.dataset.state))
      .observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
  });
  await until('the call screen after a reload', async () => (await state(page)) === 'call', 20000);
  await framesAdvance(page, 'the room video after the reload');
  const states = await page.evaluate(() => window.__states);
  assert.ok(!states.includes('precall'), `no pre-call test after a reload: ${states}`);
  const patientRows = (await app.participants(s.id)).filter((p) => p.user_type === 'patient');
  assert.equal(patientRows.length, 1, 'the rejoin reuses the participant row');

  // Leave ends the participant row; the doctor's screen hears about it.
  await page.click('#leave');
  await until('the ended screen', async () => (await state(page)) === 'ended');
  await until('the patient row to be closed', async () =>
    (await app.participants(s.id)).filter((p) => p.user_type === 'patient').every((p) => p.left_at));
  const after = await doctor.next('the empty waiting room', (m) => m.type === 'waiting_room' && m.patients.length === 0);
  assert.ok(after);
  await page.screenshot({ path: join(artifacts, 'ended.png') });
  doctor.ws.close();
  await context.close();
});

test('a second session at the same time stays isolated', { timeout: 420000 }, async () => {
  const a = await app.session();
  const b = await app.session();
  const doctorA = await app.doctorSocket(a.id);
  const first = await openInvite(a);
  await passPrecall(first.page);
  const second = await openInvite(b, { width: 390, height: 844 });   // a phone, portrait
  await passPrecall(second.page);
  await until('both waiting', async () => (await app.status(a.id)) === 'waiting' && (await app.status(b.id)) === 'waiting');

  await app.admit(a.id);
  await framesAdvance(first.page, 'session A video');
  await second.page.screenshot({ path: join(artifacts, 'waiting-phone.png') });
  // B is still waiting, with no peer connection; A's doctor never heard of B.
  assert.equal(await state(second.page), 'waiting');
  assert.equal(await second.page.evaluate(() => window.consultPatient.peer), null);
  assert.equal(await app.status(b.id), 'waiting');
  assert.ok(doctorA.inbox.every((m) => m.session === undefined || m.session === a.id));
  assert.ok(!doctorA.inbox.some((m) => m.type === 'waiting_room' && m.session === b.id));

  // Then B is admitted too: two calls at once, each with its own media.
  await app.admit(b.id);
  await framesAdvance(second.page, 'session B video');
  await framesAdvance(first.page, 'session A video still');
  await second.page.screenshot({ path: join(artifacts, 'call-phone.png') });

  // Ending A leaves B running.
  doctorA.send({ type: 'end' });
  await until('A ended on the page', async () => (await state(first.page)) === 'ended');
  // The rating is offered after the call and may be skipped: the form goes, nothing is stored.
  await until('the rating offered', async () => first.page.evaluate(() => !document.getElementById('rating').hidden));
  await first.page.click('#rating-skip');
  assert.equal(await first.page.evaluate(() => document.getElementById('rating').hidden), true, 'skipped');
  assert.equal((await first.page.evaluate(() => document.getElementById('ended-title').textContent)).length > 0, true);
  await framesAdvance(second.page, 'session B after A ended');
  assert.equal(await app.status(b.id), 'in-progress');
  const rated = await fetch(`${app.base}/api/video-consultations/sessions/${a.id}/rating`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${a.token}` },
    body: JSON.stringify({ score: 3 }) });
  assert.equal(rated.status, 201, 'a skipped rating was never sent: the link may still rate once');
  doctorA.ws.close();
  await first.context.close();
  await second.context.close();
});

test('a bad or missing token gets a plain explanation', { timeout: 180000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${app.base}/v/some-room`);
  await until('the incomplete-link screen', async () => (await state(page)) === 'ended');
  assert.match(await page.textContent('#ended-title'), /incomplete/);
  await page.goto(`${app.base}/v/some-room#t=not.a.token`);
  await page.reload();
  // The link is checked before the camera test: a damaged one never reaches it.
  await until('the invalid-link screen', async () => (await state(page)) === 'ended');
  assert.match(await page.textContent('#ended-title'), /not valid/);
  assert.equal(await page.evaluate(() => window.consultPatient.stream), null, 'the camera was not asked for');
  await context.close();
});

test('a cancelled or finished consultation says so before the camera test', { timeout: 180000 }, async () => {
  for (const [close, title] of [['cancel', /cancelled/], ['end', /has ended/]]) {
    const s = await app.session();
    if (close === 'end') {
      await app.must('POST', `/api/video-consultations/sessions/${s.id}/join`, s.token, undefined, 200);
      await app.admit(s.id);
    }
    await app.must('POST', `/api/video-consultations/sessions/${s.id}/${close}`, app.doctor, {}, 200);
    const { context, page } = await openInvite(s);
    await until(`the ${close} screen`, async () => (await state(page)) === 'ended');
    assert.match(await page.textContent('#ended-title'), title);
    assert.equal(await page.evaluate(() => window.consultPatient.stream), null, 'the camera was not asked for');
    await context.close();
  }
});
