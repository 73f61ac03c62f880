// Recording with the patient's consent, end to end with the kiosk and a Chromium
// patient against a real consultd --demo: the doctor taps Record, the patient's page
// asks in plain words with two equal answers; "No" records nothing and the kiosk says
// so; "Yes" shows the red mark on both screens and writes a file that is composed after
// the call; the patient's one-tap withdrawal stops it at once and the clinic's policy
// deletes what was recorded. Each screen is scanned with axe and the 48 px check.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Appliance, test, DOCTOR_B, launchBrowser, until, sleep } from './lib/appliance.mjs';
import { checkScreen, enterPin, openKiosk, patientJoins, screenOf, signIn, visible } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'recording');
mkdirSync(artifacts, { recursive: true });
const SESSIONS = '/api/video-consultations/sessions';

let app, browser;

before(async () => {
  app = new Appliance(buildDir, ['--set', 'media.max_width=640', '--set', 'media.max_height=360',
                                 '--set', 'recording.retention_days=14']);
  await app.start();
  browser = await launchBrowser(['--allow-loopback-in-peer-connection']);
});

after(async () => {
  await browser?.close();
  await app?.stop();
  if (app?.stderr && process.env.CONSULT_VERBOSE) console.log(app.stderr);
});

const text = (page, sel) => page.evaluate((s) => document.querySelector(s)?.textContent || '', sel);
const recordingRow = (id) => app.get(`${SESSIONS}/${id}/recording`, app.admin);

// The kiosk signed in, a patient admitted from its waiting room, both in the call.
async function inCall() {
  const s = await app.session();
  const kiosk = await openKiosk(browser, app);
  await signIn(kiosk.page, DOCTOR_B);
  await until('Today', async () => (await screenOf(kiosk.page)) === 'today');
  const patient = await patientJoins(browser, `${app.base}/v/${s.room}#t=${s.token}`);
  await until('the arrival banner', () => visible(kiosk.page, '#arrival'), 20000);
  await kiosk.page.tap('#arrival-open');
  await until('the patient in the waiting room', () => visible(kiosk.page, `#waiting-list [data-session="${s.id}"] button.primary`));
  await kiosk.page.tap(`#waiting-list [data-session="${s.id}"] button.primary`);
  await until('the call screen', async () => (await screenOf(kiosk.page)) === 'call');
  await until('the patient in the call', async () => (await patient.state()) === 'call');
  await until('the Record button', () => kiosk.page.evaluate(() => !document.getElementById('record').disabled));
  return { s, kiosk, patient };
}

async function close({ kiosk, patient }) {
  await patient.context.close();
  await kiosk.context.close();
}

test('"No" records nothing, and the kiosk says so', { timeout: 300000 }, async () => {
  const call = await inCall();
  const { kiosk, patient } = call;
  await kiosk.page.tap('#record');
  await until('the question on the patient\'s page', () => visible(patient.page, '#consent'));
  const question = await text(patient.page, '#consent-text');
  assert.match(question, /14 days/, 'how long it is kept, from the clinic\'s settings');
  assert.match(question, /Only your doctor/);
  assert.match(question, /stop the recording at any time/);
  await until('the kiosk shows the question asked', async () => (await kiosk.page.getAttribute('#record', 'aria-pressed')) === 'true');
  assert.match(await text(kiosk.page, '#record'), /Cancel request/);
  await checkScreen(patient.page, artifacts, 'patient-consent-question');
  // Two equal answers: the same size.
  const sizes = await patient.page.evaluate(() => ['consent-yes', 'consent-no'].map((id) => {
    const r = document.getElementById(id).getBoundingClientRect();
    return [Math.round(r.width), Math.round(r.height)];
  }));
  assert.deepEqual(sizes[0], sizes[1]);

  await patient.page.click('#consent-no');
  await until('the kiosk told', async () => /said no/.test(await text(kiosk.page, '#call-notice')));
  assert.equal(await visible(patient.page, '#consent'), false);
  assert.equal(await visible(kiosk.page, '#recording-chip'), false);
  assert.equal(await visible(patient.page, '#recording'), false);
  assert.equal((await recordingRow(call.s.id)).status, 404, 'nothing recorded');
  await close(call);
});

test('"Yes" records with the mark on both screens; the end of the call composes one file', { timeout: 400000 }, async () => {
  const call = await inCall();
  const { kiosk, patient } = call;
  await kiosk.page.tap('#record');
  await until('the question', () => visible(patient.page, '#consent'));
  await patient.page.click('#consent-yes');
  const yesAt = Date.now();
  await until('the red mark on the patient\'s page', () => visible(patient.page, '#recording'));
  const markAt = Date.now();
  await until('the red mark on the kiosk', () => visible(kiosk.page, '#recording-chip'));
  assert.equal(await visible(patient.page, '#withdraw'), true, 'one tap stops it');
  assert.match(await text(kiosk.page, '#record'), /Stop recording/);
  await sleep(300);   // the buttons' 60 ms colour transition has ended
  await checkScreen(patient.page, artifacts, 'patient-recording');
  await checkScreen(kiosk.page, artifacts, 'kiosk-recording');
  await until('the recording row', async () => (await recordingRow(call.s.id)).body?.state === 'recording');
  await sleep(6000);
  const stopAt = Date.now();
  await kiosk.page.tap('#record');
  await until('the mark gone from the patient\'s page', async () => !(await visible(patient.page, '#recording')));
  await until('the mark gone from the kiosk', async () => !(await visible(kiosk.page, '#recording-chip')));
  await app.must('POST', `${SESSIONS}/${call.s.id}/end`, app.doctor, undefined, 200);
  // A composition that failed is final: say why at once rather than wait out the limit.
  const composed = await until('the recording composed', async () => {
    const body = (await recordingRow(call.s.id)).body;
    return ['ready', 'failed'].includes(body?.state) && body;
  }, 120000, 500);
  assert.equal(composed.state, 'ready', `the composition failed: ${JSON.stringify(composed)}`);
  const row = (await recordingRow(call.s.id)).body;
  // The take lasts from the first red mark (the file starts on a keyframe of each picture
  // just before it) to the stop tap (the file ends once the hub has heard it), timed here
  // rather than assumed: the screens' accessibility scans in between take seconds on a
  // loaded machine.
  // The patient is in it: a yes given before their media had arrived (a loaded machine,
  // a slow link) starts a new part once it has, which costs the take the second or two
  // between the parts.
  const parts = app.recordedParts(call.s.id);
  const last = parts.at(-1)?.tracks ?? {};
  assert.ok('patient-video' in last && 'patient-audio' in last, `the patient's picture and voice: ${JSON.stringify(parts)}`);
  const shortest = stopAt - markAt - 2500 * (parts.length - 1), longest = stopAt - yesAt;
  console.log(`composed duration ${row.duration_ms} ms for a take of ${shortest}-${longest} ms in ${parts.length} part(s)`);
  // The stop tap reaches the box through the kiosk's page and socket: seconds late on a
  // loaded machine, and the file runs until it is heard.
  assert.ok(row.duration_ms >= shortest - 1000 && row.duration_ms <= longest + 3500,
            `composed ${row.duration_ms} ms, the take ${shortest}-${longest} ms: ${JSON.stringify(parts)}`);
  assert.equal(row.consents.length, 1);
  assert.equal(row.consents[0].answer, 'given');
  const media8 = await fetch(app.base + row.media_url, { headers: { Range: 'bytes=4-7' } });
  assert.equal(await media8.text(), 'ftyp', 'an MP4 file');

  // The doctor reviews it on the kiosk: Today names its state, the player plays and seeks.
  await until('the after-call screen', async () => (await screenOf(kiosk.page)) === 'after', 20000);
  await kiosk.page.tap('#after-done');
  await until('Today', async () => (await screenOf(kiosk.page)) === 'today');
  for (let i = 0; i < call.s.dayOffset; ++i) await kiosk.page.tap('#day-next');
  const dayRow = `#day-list [data-appointment="${call.s.appointment}"]`;
  await until('the recording named in the day', async () => /Recording ready/.test(await text(kiosk.page, dayRow)), 20000);
  await kiosk.page.locator(dayRow).getByRole('button', { name: 'Review recording' }).tap();
  await until('the player', () => kiosk.page.evaluate(() => document.getElementById('review').open));
  await until('the recording loaded', () => kiosk.page.evaluate(() => document.getElementById('review-video').duration > 2), 20000);
  const played = await kiosk.page.evaluate(() => new Promise((resolve) => {
    const v = document.getElementById('review-video');
    v.muted = true;
    const t = setTimeout(() => resolve(`not playing: ${v.currentTime}, error ${v.error?.message}`), 10000);
    v.addEventListener('timeupdate', () => { if (v.currentTime > 0.5) { clearTimeout(t); resolve(v.currentTime); } });
    v.play().catch((e) => resolve(`play refused: ${e.message}`));
  }));
  assert.ok(typeof played === 'number', `the recording plays: ${played}`);
  const seeked = await kiosk.page.evaluate(() => new Promise((resolve) => {
    const v = document.getElementById('review-video');
    v.pause();
    const t = setTimeout(() => resolve(`no seek: ${v.error?.message}`), 10000);
    v.addEventListener('seeked', () => { clearTimeout(t); resolve(v.currentTime); }, { once: true });
    v.currentTime = v.duration - 1;
  }));
  assert.ok(typeof seeked === 'number' && seeked > 1, `seeked to ${seeked}`);
  await checkScreen(kiosk.page, artifacts, 'kiosk-review');
  await kiosk.page.tap('#review-close');
  const log = await app.get(`/api/recordings/access-log?session_id=${call.s.id}`, app.admin);
  assert.ok(log.body.entries.some((e) => e.action === 'download' && e.actor_role === 'doctor'), JSON.stringify(log.body));
  await close(call);
});

test('withdrawing mid-recording stops it at once and the clinic\'s policy deletes it', { timeout: 300000 }, async () => {
  const call = await inCall();
  const { kiosk, patient } = call;
  await kiosk.page.tap('#record');
  await until('the question', () => visible(patient.page, '#consent'));
  await patient.page.click('#consent-yes');
  await until('recording', () => visible(kiosk.page, '#recording-chip'));
  await sleep(3000);
  await patient.page.click('#withdraw');
  await until('the mark gone from the patient\'s page', async () => !(await visible(patient.page, '#recording')), 5000);
  await until('the kiosk told', async () => /withdrew/.test(await text(kiosk.page, '#call-notice')), 5000);
  assert.match(await text(kiosk.page, '#call-notice'), /deleted/);
  assert.equal(await visible(kiosk.page, '#recording-chip'), false);
  assert.match(await text(patient.page, '#recording-note'), /stopped, as you asked/);
  await until('the recording deleted', async () => (await recordingRow(call.s.id)).body?.state === 'deleted', 15000, 300);
  assert.equal((await recordingRow(call.s.id)).body.delete_reason, 'the patient withdrew their consent');
  // The call goes on.
  assert.equal(await app.status(call.s.id), 'in-progress');
  assert.equal(await patient.state(), 'call');
  await close(call);
});

test('Settings: the clinic\'s recording settings are saved, and a recording is deleted on request', { timeout: 300000 }, async () => {
  // A recording to delete: made through the API with the patient's yes over the socket
  // is what the tests above prove; here one finished recording from them is enough.
  const listed = await app.get('/api/recordings', app.admin);
  const target = listed.body.recordings.find((r) => r.state === 'ready');
  assert.ok(target, 'the "Yes" test left a ready recording');
  const { context, page } = await openKiosk(browser, app, { width: 1920, height: 1080 });
  await page.tap('#open-settings');
  await until('the admin PIN pad', () => visible(page, '#pin-panel'));
  await enterPin(page, '0000');
  await until('Settings', async () => (await screenOf(page)) === 'settings');
  await until('the recording settings', async () => (await page.inputValue('#rec-retention')) === '14');
  await until('the recordings listed', async () => (await text(page, '#rec-list')).includes('ready'));
  await page.fill('#rec-retention', '21');
  await page.selectOption('#rec-withdrawal', 'keep');
  await page.tap('#rec-save');
  await until('saved', async () => /Saved/.test(await text(page, '#rec-message')));
  const now = (await app.get('/api/system/recording', app.admin)).body;
  assert.equal(now.retention_days, 21);
  assert.equal(now.on_withdrawal, 'keep');
  await checkScreen(page, artifacts, 'kiosk-settings-recordings');

  await page.getByRole('button', { name: /^Delete the recording of/ }).first().tap();
  await until('the confirmation', () => page.evaluate(() => document.getElementById('confirm').open));
  await page.tap('#confirm-yes');
  await until('the list says deleted', async () => (await text(page, '#rec-list')).includes('deleted on request from the kiosk'));
  const row = (await app.get(`${SESSIONS}/${target.session_id}/recording`, app.admin)).body;
  assert.equal(row.state, 'deleted');
  assert.ok(row.deleted_by, 'who deleted it');
  await context.close();
});
