// The patient's side in Firefox ESR, as a patient without OpenH264 has it (Debian's
// firefox-esr: VP8 and Opus only): the invite link, the pre-call test, the waiting room,
// admission, and the call both ways, with the appliance encoding VP8 for this browser.
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
  app = new Appliance(buildDir, ['--set', 'media.max_width=640', '--set', 'media.max_height=360']);
  await app.start();
  browser = await launchFirefox();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  if (app?.stderr && process.env.CONSULT_VERBOSE) console.log(app.stderr);
});

const state = (page) => page.evaluate(() => document.body.dataset.state);

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
  await page.goto(`${app.base}/v/${s.room}#t=${s.token}`);

  await until('the pre-call screen', async () => (await state(page)) === 'precall', 30000);
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

  // The doctor ends the call: Firefox's page shows the ended screen, no reconnect loop.
  doctor.send({ type: 'end', reason: 'done' });
  await until('the ended screen', async () => (await state(page)) === 'ended', 15000);
  assert.equal(doctor.inbox.filter((m) => m.type === 'offer').length, 0);
  await page.close();
});
