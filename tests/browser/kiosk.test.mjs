// The kiosk (the doctor's touch screen), end to end with touch emulation against a
// real consultd --demo: PIN sign-in (wrong PIN, lockout), Today, Start with the
// invite link and its QR code, a patient arriving (chime and banner on another
// screen), Admit, the patient's forwarded video on the kiosk, mute and camera-off
// both ways, chat both ways, the content camera shared and stopped, End with confirmation, notes after the call (saved
// on leaving when not saved), nobody left waiting afterwards, Today opened at the time of day, sign-out during a call, and the
// Settings timings panel and device pickers with their live preview. Every screen is saved as a PNG, scanned with axe-core and
// checked for 48 px touch targets.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { Appliance, test, DOCTOR_B, launchBrowser, until } from './lib/appliance.mjs';
import { DOCTOR_A, bookAppointment, checkScreen, enterPin, kioskSeesPatient, openKiosk, patientJoins, screenOf, signIn,
         visible } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'kiosk');
mkdirSync(artifacts, { recursive: true });
const SESSIONS = '/api/video-consultations/sessions';

let app, browser;

before(async () => {
  app = new Appliance(buildDir, ['--set', 'media.max_width=640', '--set', 'media.max_height=360', '--set', 'media.content_camera=test']);
  await app.start();
  browser = await launchBrowser(['--allow-loopback-in-peer-connection']);
});

after(async () => {
  await browser?.close();
  await app?.stop();
  if (app?.stderr && process.env.CONSULT_VERBOSE) console.log(app.stderr);
});

const text = (page, sel) => page.evaluate((s) => document.querySelector(s)?.textContent || '', sel);

test('sign-in: a wrong PIN is refused, five lock the doctor out, the right PIN opens Today', { timeout: 300000 }, async () => {
  const { context, page } = await openKiosk(browser, app);
  await page.evaluate(() => document.querySelector('.facts-box').open = true);
  await until('the appliance facts', async () => (await text(page, '#facts')).includes('Video encoder'));
  await checkScreen(page, artifacts, 'signin');

  await signIn(page, DOCTOR_A, '9999');
  await until('the wrong-PIN message', async () => (await text(page, '#pin-error')).includes('Wrong PIN'));
  assert.match(await text(page, '#pin-error'), /4 tries left/);
  await checkScreen(page, artifacts, 'signin-wrong-pin');
  for (let i = 0; i < 4; ++i) {
    await page.tap('#pin-clear');
    await enterPin(page, '999' + i);
    await until(`refusal ${i + 2}`, async () => (await page.evaluate(() => !document.getElementById('pin-ok').disabled)));
  }
  await until('the lockout message', async () => (await text(page, '#pin-error')).includes('Too many wrong PINs'));
  await page.tap('#pin-clear');
  await enterPin(page, '1234');
  await until('the right PIN refused while locked', async () =>
    (await text(page, '#pin-error')).includes('Try again in') && (await screenOf(page)) === 'signin');
  await checkScreen(page, artifacts, 'signin-locked');

  // Doctor B on the same kiosk is not locked.
  await page.tap('#pin-back');
  // Today opens at the time of day: at 15:00 the next appointment is in view, not 09:00.
  // The kiosk's clock is set to tomorrow 15:00 (the demo has that day too): today's 15:00
  // appointment is marked a no-show by the appliance's real clock once its time has passed,
  // so a run late in the day found no next appointment.
  const three = new Date();
  three.setDate(three.getDate() + 1);
  three.setHours(15, 0, 0, 0);
  await page.clock.setFixedTime(three);
  await signIn(page, DOCTOR_B);
  await until('Today', async () => (await screenOf(page)) === 'today');
  await until('the day list', () => page.evaluate(() => document.querySelectorAll('#day-list .appt').length >= 16));
  await until('the next appointment in view below the day controls', async () => {
    const at = await page.evaluate(() => {
      const next = document.querySelector('#day-list .next');
      if (!next) return null;
      const screen = next.closest('.screen');
      const head = screen.querySelector('.screen-head').getBoundingClientRect();
      const r = next.getBoundingClientRect();
      return { time: next.querySelector('.time').textContent, top: r.top, bottom: r.bottom, head: head.bottom,
               end: screen.getBoundingClientRect().bottom, scrolled: screen.scrollTop };
    });
    return at && /15:00|03:00/.test(at.time) && at.top >= at.head - 1 && at.bottom <= at.end + 1 && at.scrolled > 0 ? at : null;
  }, 10000);
  assert.equal(await page.evaluate(() => window.consultKiosk.token !== null && localStorage.length === 0 && sessionStorage.length === 0), true,
               'the token lives in memory only');
  await context.close();
});

test('Today, Start, a patient arrives, Admit, the call, End, notes', { timeout: 600000 }, async () => {
  const appt = await bookAppointment(app);
  const { context, page } = await openKiosk(browser, app);
  await signIn(page, DOCTOR_B);
  await until('Today', async () => (await screenOf(page)) === 'today');

  // Today lists the demo's appointments (doctor B: every 30 minutes, 09:00-17:00) and highlights one.
  await until('the day list', () => page.evaluate(() => document.querySelectorAll('#day-list .appt').length >= 16));
  const demo = await page.evaluate(() => [...document.querySelectorAll('#day-list .appt .name')].map((n) => n.textContent));
  assert.ok(demo.some((n) => /Demo|Example|Sample|Test|Placeholder|Fictional|Invented|Madeup/.test(n)), demo.join(', '));
  await checkScreen(page, artifacts, 'today');
  for (let i = 0; i < appt.dayOffset; ++i) await page.tap('#day-next');
  const row = `#day-list [data-appointment="${appt.id}"]`;
  await until('the booked appointment on the kiosk', () => visible(page, row));
  // Booked through the API, its session was prepared at once (and a confirmation sent, were SMS on).
  assert.equal(await page.evaluate((r) => document.querySelector(r).dataset.status, row), 'invited');

  // Open: with SMS and email off, the link and its QR code are shown.
  await page.tap(`${row} button.primary`);
  await until('the waiting room screen', async () => (await screenOf(page)) === 'waiting');
  // The short link (its code to read out beside it): the QR code carries it, and the
  // patient below opens it (it forwards to /v/<room>#t=<a fresh token>).
  await until('the invite link', async () => (await text(page, '#invite-link')).includes('/j/'));
  const shown = await text(page, '#invite-link');
  assert.match(shown, /^http:\/\/127\.0\.0\.1:\d+\/j\/[2-9A-HJ-NP-Z]{8} +\(code [2-9A-HJ-NP-Z]{4} [2-9A-HJ-NP-Z]{4}\)$/);
  const link = shown.split(/\s+/)[0];
  // This appliance's links point to 127.0.0.1: the doctor is told phones cannot open them.
  assert.match(await text(page, '#invite-warning'), /Patients' phones cannot open their links: they point to 127\.0\.0\.1/);
  const qr = await page.evaluate(() => {
    const c = document.getElementById('invite-qr');
    return { w: c.width, h: c.height, data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) };
  });
  assert.equal(jsQR(Uint8ClampedArray.from(qr.data), qr.w, qr.h)?.data, link, 'the QR code reads as the link');
  await checkScreen(page, artifacts, 'waiting-room-empty');
  const sessionId = await page.evaluate(() => window.consultKiosk.room.sessionId);

  // Back on Today, the patient opens the link: a chime and a banner.
  await page.tap('#waiting-back');
  await until('Today again', async () => (await screenOf(page)) === 'today');
  const chimes = await page.evaluate(() => window.consultKiosk.chimes);
  const patient = await patientJoins(browser, link);
  await until('the arrival banner', () => visible(page, '#arrival'), 20000);
  assert.match(await text(page, '#arrival-text'), /is in the waiting room/);
  assert.ok((await page.evaluate(() => window.consultKiosk.chimes)) > chimes, 'a chime played');
  await checkScreen(page, artifacts, 'today-patient-arrived');

  await page.tap('#arrival-open');
  await until('the patient in the waiting room with the pre-call result', async () =>
    (await text(page, `#waiting-list [data-session="${sessionId}"]`)).includes('camera ✓'));
  await checkScreen(page, artifacts, 'waiting-room');

  // Admit: the call screen, and the patient's video forwarded to the kiosk.
  await page.tap(`#waiting-list [data-session="${sessionId}"] button.primary`);
  await until('the call screen', async () => (await screenOf(page)) === 'call');
  await until('the patient in the call', async () => (await patient.state()) === 'call');
  const stats = await kioskSeesPatient(page, 'after admit');
  assert.ok(stats.width > 0 && stats.videoWidth > 0);
  await until('the self-view', () => page.evaluate(() => document.getElementById('self-video').videoWidth > 0));
  assert.equal(await page.evaluate(() => [...document.querySelectorAll('section[data-screen="call"] video')].every((v) => v.muted)), true,
               'the kiosk plays no audio: the room speaker does');
  await until('the call timer', async () => (await text(page, '#call-timer')) !== '00:00');
  await checkScreen(page, artifacts, 'call');

  // Mute and camera off, both ways.
  await page.tap('#mute');
  await until('the patient told the doctor muted', () => patient.page.evaluate(() =>
    !document.getElementById('doctor-state').hidden && document.getElementById('doctor-state').textContent.includes('muted')));
  assert.equal(await page.getAttribute('#mute', 'aria-pressed'), 'true');
  await page.tap('#camera');
  await until("the patient told the doctor's camera is off", () => patient.page.evaluate(() =>
    document.getElementById('doctor-state').textContent.includes('camera is off')));
  await patient.page.click('#mute');
  await patient.page.click('#camera');
  await until('the kiosk shows the patient muted, camera off', async () =>
    /Patient muted/.test(await text(page, '#patient-state')) && /camera off/.test(await text(page, '#patient-state')));
  await checkScreen(page, artifacts, 'call-muted');
  await page.tap('#mute');
  await page.tap('#camera');
  await patient.page.click('#mute');
  await patient.page.click('#camera');
  await until('both back on', async () => (await visible(page, '#patient-state')) === false &&
    (await patient.page.evaluate(() => document.getElementById('doctor-state').hidden)));

  // Chat both ways.
  await page.tap('#chat-toggle');
  await page.fill('#chat-input', 'Please show me the tooth');
  await page.tap('#chat-form button[type=submit]');
  await until('the doctor chat on the patient page', () => patient.page.evaluate(() =>
    [...document.querySelectorAll('#chat-log li')].some((li) => li.textContent.includes('Please show me the tooth'))));
  await patient.page.click('#chat-toggle');
  await patient.page.fill('#chat-input', 'Here, <b>upper left</b>');
  await patient.page.click('#chat-form button[type=submit]');
  await until('the patient chat on the kiosk', async () => (await text(page, '#chat-log')).includes('Here, <b>upper left</b>'));
  await checkScreen(page, artifacts, 'call-chat');
  await page.tap('#chat-toggle');

  // The content camera (a test source here): shared, seen on the kiosk, stopped.
  assert.equal(await page.evaluate(() => document.getElementById('content').disabled), false);
  await page.tap('#content');
  await until('the content camera on the kiosk', () => page.evaluate(() => document.getElementById('content-video').videoWidth > 0), 30000);
  assert.equal(await page.getAttribute('#content', 'aria-pressed'), 'true');
  await checkScreen(page, artifacts, 'call-content');
  await page.tap('#content');
  await until('sharing stopped', async () => (await page.getAttribute('#content', 'aria-pressed')) === 'false');
  await kioskSeesPatient(page, 'after sharing');

  // What the appliance reports about the patient's link, said plainly (fed through the
  // room's socket object exactly as a message from the appliance would arrive).
  // The appliance's own quality reports keep arriving every few seconds, so each
  // injection is read back in the same turn of the page's event loop.
  const inject = (...msgs) => page.evaluate((list) => {
    for (const msg of list) window.consultKiosk.room.signalling.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
    const notice = document.getElementById('call-notice');
    return { notice: notice.hidden ? '' : notice.textContent, chip: document.getElementById('quality-chip').textContent };
  }, msgs);
  const poor = await inject({ type: 'quality', peer: 'patient', level: 'poor', rtt_ms: 900, loss: 0.2, frames_decoded: 100 },
                            { type: 'audio_only', on: true });
  assert.match(poor.notice, /connection is poor/);
  assert.match(poor.notice, /audio only/);
  assert.match(poor.chip, /poor/);
  await checkScreen(page, artifacts, 'call-poor-connection');
  const good = await inject({ type: 'quality', peer: 'patient', level: 'good', rtt_ms: 20, loss: 0, frames_decoded: 200 },
                            { type: 'audio_only', on: false });
  assert.equal(good.notice, '');
  assert.match(good.chip, /good/);

  // End, with a confirmation first.
  await page.tap('#end');
  await until('the confirmation', () => page.evaluate(() => document.getElementById('confirm').open));
  await checkScreen(page, artifacts, 'call-end-confirm');
  await page.tap('#confirm-no');
  assert.equal(await app.status(sessionId), 'in-progress', '"No" keeps the call');
  await page.tap('#end');
  await until('the confirmation again', () => page.evaluate(() => document.getElementById('confirm').open));
  await page.tap('#confirm-yes');
  await until('the after-call screen', async () => (await screenOf(page)) === 'after', 20000);
  await until('the patient told it ended', async () => (await patient.state()) === 'ended');
  assert.equal(await app.status(sessionId), 'completed');
  await until('the summary', async () => (await text(page, '#summary')).includes('Length'));

  // Both pages reported their first picture: a join that worked, timed from the admission.
  const metrics = await (await fetch(`${app.base}/metrics`)).text();
  assert.match(metrics, /\nconsult_joins_total\{result="media_both_ways"\} [1-9]/);
  assert.match(metrics, /\nconsult_admit_to_first_frame_seconds_count\{side="doctor"\} [1-9]/);
  assert.match(metrics, /\nconsult_admit_to_first_frame_seconds_count\{side="patient"\} [1-9]/);

  // The patient rates the consultation: five equal choices, an optional comment, once.
  await until('the rating on the patient\'s page', () => visible(patient.page, '#rating'));
  await checkScreen(patient.page, artifacts, 'patient-rating');
  assert.equal(await patient.page.evaluate(() => document.getElementById('rating-send').disabled), true, 'nothing chosen yet');
  await patient.page.click('#rating-scores button[data-score="4"]');
  await patient.page.fill('#rating-comment', 'Clear picture and sound.');
  await patient.page.click('#rating-send');
  await until('the thanks', () => visible(patient.page, '#rating-thanks'));
  assert.equal(await visible(patient.page, '#rating'), false);
  assert.equal(execFileSync('sqlite3', [join(app.dir, 'state', 'consult.db'),
    `SELECT score || ':' || comment FROM session_ratings WHERE session_id = '${sessionId}'`], { encoding: 'utf8' }).trim(),
  '4:Clear picture and sound.');

  // Notes after the call, visible through the API.
  await page.fill('#notes', 'Upper left molar: sensitivity. Review in person next week.');
  await page.tap('#save-notes');
  await until('notes saved', async () => (await text(page, '#notes-state')).includes('saved'));
  const s = await app.must('GET', `${SESSIONS}/${sessionId}`, app.admin, undefined, 200);
  assert.equal(s.notes, 'Upper left molar: sensitivity. Review in person next week.');
  await checkScreen(page, artifacts, 'after-call');
  // Typed and not saved: leaving the screen saves it, and says so.
  await page.fill('#notes', 'Upper left molar: sensitivity. Review in person next week. Fluoride gel twice a day.');
  await page.tap('#after-done');
  await until('the notes saved on leaving', async () =>
    (await app.must('GET', `${SESSIONS}/${sessionId}`, app.admin, undefined, 200)).notes.endsWith('twice a day.'));
  await until('the doctor told', async () => /Notes for .* saved/.test(await text(page, '#problem')));
  await until('the row marked done', async () =>
    (await page.evaluate((r) => document.querySelector(r)?.dataset.status, row)) === 'done');
  // The appliance refuses a save: the notes stay on the kiosk as a draft, the doctor is
  // told, and the draft comes back when the notes are opened again.
  const notesNow = async () => (await app.must('GET', `${SESSIONS}/${sessionId}`, app.admin, undefined, 200)).notes;
  await page.tap(`${row} .actions button`);
  await until('the notes opened again', async () => (await page.inputValue('#notes')).endsWith('twice a day.'));
  const refuse = (route) => (route.request().method() === 'PUT'
    ? route.fulfill({ status: 503, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'store_busy', message: 'The appliance is busy; try again.' } }) })
    : route.continue());
  await page.route('**/notes', refuse);
  const draft = 'Upper left molar: sensitivity. Review in person next week. Fluoride gel twice a day. X-ray booked.';
  await page.fill('#notes', draft);
  await page.tap('#after-done');
  await until('the doctor told the notes are kept', async () => /could not be saved.*kept on this kiosk/.test(await text(page, '#problem')));
  assert.ok((await notesNow()).endsWith('twice a day.'), 'the refused text never reached the appliance');
  await page.unroute('**/notes', refuse);
  // Kept in the kiosk's profile as it is typed, not only when the page goes away: a browser
  // that crashed or a kiosk that restarted (another page, the same profile) finds it.
  await page.tap(`${row} .actions button`);
  await until('the draft back on the kiosk', async () => (await page.inputValue('#notes')) === draft);
  const typed = `${draft} Recall in six months.`;
  await page.fill('#notes', typed);
  const other = await context.newPage();
  await other.goto(page.url());
  const kept = async (key) => other.evaluate((k) => JSON.parse(localStorage.getItem(k) || '{}'), key);
  await until('the draft in the profile', async () => (await kept('consult.notes-drafts'))[sessionId]?.text === typed);
  // The summary for the patient too, until it is sent.
  const summaryTyped = `${await page.inputValue('#patient-summary')}Rinse with salt water.`;
  await page.fill('#patient-summary', summaryTyped);
  await until('the summary draft in the profile', async () => (await kept('consult.summary-drafts'))[sessionId]?.text === summaryTyped);
  await other.close();
  // The kiosk's page reloads (its tab crashed, someone pressed F5): the drafts come back.
  await page.reload();
  await signIn(page, DOCTOR_B);
  await until('Today after the reload', async () => (await screenOf(page)) === 'today');
  for (let i = 0; i < appt.dayOffset; ++i) await page.tap('#day-next');
  await until('the row after the reload', () => visible(page, row));
  await page.tap(`${row} .actions button`);
  await until('the draft back', async () => (await page.inputValue('#notes')) === typed);
  assert.match(await text(page, '#notes-state'), /not saved yet/);
  assert.equal(await page.inputValue('#patient-summary'), summaryTyped);
  assert.match(await text(page, '#patient-summary-state'), /not sent yet/);
  await page.tap('#save-notes');
  await until('the draft saved', async () => (await notesNow()) === typed);
  // (once the page has the appliance's answer, which comes just after the row is written)
  await until('a saved draft leaves the profile', async () =>
    (await page.evaluate(() => JSON.parse(localStorage.getItem('consult.notes-drafts') || '{}')))[sessionId] === undefined);
  // The summary for the patient, beside the private notes: pre-filled with the call's facts.
  assert.match(await page.inputValue('#patient-summary'), /^Video consultation on .*\(\d+ min \d+ s\)/);
  const advice = 'Use the fluoride gel twice a day. We will call you to book the X-ray.';
  await page.fill('#patient-summary', summaryTyped + advice);
  await page.tap('#send-summary');
  // SMS and email are off here: saved, and the doctor is told it did not go.
  await until('the summary saved', async () => /Saved, not sent/.test(await text(page, '#patient-summary-state')));
  await until('a sent summary leaves the profile', async () =>
    (await page.evaluate(() => JSON.parse(localStorage.getItem('consult.summary-drafts') || '{}')))[sessionId] === undefined);
  await checkScreen(page, artifacts, 'after-call-summary');
  // The patient's page for it (what the SMS would link to) shows it for the invite's code only.
  const written = await page.inputValue('#patient-summary');
  const summaryPage = (await app.must('PUT', `${SESSIONS}/${sessionId}/summary`, app.admin, { text: written.trim() }, 200)).page;
  const reader = await patient.context.newPage();
  await reader.goto(summaryPage);
  await reader.fill('#code', 'WRONGCODE');
  await Promise.all([reader.waitForNavigation(), reader.click('button[type=submit]')]);
  assert.match(await reader.textContent('[role=alert]'), /does not match/);
  assert.ok(!(await reader.content()).includes('fluoride'), 'no summary for a wrong code');
  await reader.fill('#code', link.split('/j/')[1].toLowerCase());
  await Promise.all([reader.waitForNavigation(), reader.click('button[type=submit]')]);
  assert.ok((await reader.textContent('.summary')).includes(advice));
  assert.ok(!(await reader.content()).includes('X-ray booked'), 'never the private notes');
  await checkScreen(reader, artifacts, 'patient-summary-page');
  await reader.close();
  await page.tap('#after-done');
  // Nobody is left waiting from the finished call.
  await until('no one waiting', async () => (await text(page, '#waiting-count')) === '0');
  await page.tap('#open-waiting');
  assert.equal(await page.evaluate((id) => document.querySelector(`#waiting-list [data-session="${id}"]`), sessionId), null);
  assert.equal(await visible(page, '#waiting-empty'), true);
  await page.tap('#waiting-back');
  await patient.context.close();
  await context.close();
});

test('signing out during a call asks first, ends the call and tells the patient', { timeout: 300000 }, async () => {
  const s = await app.session();
  const { context, page } = await openKiosk(browser, app);
  await signIn(page, DOCTOR_B);
  await until('Today', async () => (await screenOf(page)) === 'today');
  const patient = await patientJoins(browser, `${app.base}/v/${s.room}#t=${s.token}`);
  await until('the arrival banner', () => visible(page, '#arrival'), 20000);
  await page.tap('#arrival-open');
  await until('the patient in the waiting room', () => visible(page, `#waiting-list [data-session="${s.id}"] button.primary`));
  await page.tap(`#waiting-list [data-session="${s.id}"] button.primary`);
  await until('the call screen', async () => (await screenOf(page)) === 'call');
  await until('the patient in the call', async () => (await patient.state()) === 'call');

  await page.tap('#sign-out');
  await until('the confirmation', () => page.evaluate(() => document.getElementById('confirm').open));
  assert.match(await text(page, '#confirm-text'), /ends the consultation/);
  await checkScreen(page, artifacts, 'call-sign-out-confirm');
  await page.tap('#confirm-no');
  assert.equal(await screenOf(page), 'call', '"No" keeps the call and the sign-in');
  assert.equal(await app.status(s.id), 'in-progress');

  await page.tap('#sign-out');
  await until('the confirmation again', () => page.evaluate(() => document.getElementById('confirm').open));
  await page.tap('#confirm-yes');
  await until('the sign-in screen', async () => (await screenOf(page)) === 'signin');
  await until('the patient told', async () => (await patient.state()) === 'ended');
  assert.match(await patient.page.textContent('#ended-why'), /signed out/);
  await until('the session completed', async () => (await app.status(s.id)) === 'completed');
  await patient.context.close();
  await context.close();
});

test('Settings: the admin PIN, timings created, edited, an overlap refused with the server message', { timeout: 300000 }, async () => {
  const { context, page } = await openKiosk(browser, app, { width: 1920, height: 1080 });
  await page.tap('#open-settings');
  await until('the admin PIN pad', () => visible(page, '#pin-panel'));
  await enterPin(page, '0000');
  await until('Settings', async () => (await screenOf(page)) === 'settings');
  await page.selectOption('#timing-doctor', DOCTOR_A);
  await until('doctor A hours', async () => (await text(page, '#timing-list')).includes('Monday'));
  await until('devices, network and version', async () => (await text(page, '#device-facts')).includes('Video encoder') &&
    (await text(page, '#network-facts')).includes('Twilio') && /\d/.test(await text(page, '#software-facts')));
  // The fleet report: this test machine is no A/B box and was never updated.
  await until('the fleet report', async () => (await text(page, '#fleet-facts')).includes('none (not an A/B box)'));
  const fleet = await text(page, '#fleet-facts');
  assert.ok(fleet.includes('never updated') && fleet.includes('Failures in the last day'), fleet);

  const fill = async (day, start, end, slot) => {
    await page.selectOption('#timing-day', String(day));
    await page.fill('#timing-start', start);
    await page.fill('#timing-end', end);
    await page.fill('#timing-slot', String(slot));
    await page.tap('#timing-save');
  };
  await fill(0, '06:00', '07:00', 20);
  await until('the new Sunday hours', async () => (await text(page, '#timing-list')).includes('Sunday 06:00–07:00, 20-minute slots'));

  // Devices: the pickers offer the test sources (no camera here), the content camera is
  // the test image this appliance was started with, and the preview shows a picture.
  const options = (sel) => page.evaluate((s) => [...document.querySelectorAll(`${s} option`)].map((o) => o.textContent), sel);
  await until('the device pickers', async () => (await page.inputValue('#device-content')) === 'test');
  assert.ok((await options('#device-camera')).includes('Test image'), (await options('#device-camera')).join(', '));
  assert.ok((await options('#device-microphone')).includes('Test tone'));
  assert.ok((await options('#device-speaker')).includes('None'));
  const previewWidth = () => page.evaluate(() => {
    const img = document.querySelector('#device-preview');
    return img.complete && !img.hidden ? img.naturalWidth : 0;
  });
  await until('the camera preview', async () => (await previewWidth()) === 320, 20000);
  const firstStill = await page.getAttribute('#device-preview', 'src');
  await until('the preview refreshed', async () => (await page.getAttribute('#device-preview', 'src')) !== firstStill, 10000);
  await checkScreen(page, artifacts, 'settings');
  await page.tap('#preview-content');
  await until('the content camera preview', async () =>
    (await page.getAttribute('#preview-content', 'aria-pressed')) === 'true' && (await previewWidth()) === 320, 20000);

  // Save: the server's message on screen, the choice kept by the appliance.
  await page.selectOption('#device-microphone', 'test');
  await page.selectOption('#device-speaker', 'none');
  await page.tap('#device-save');
  await until('the devices saved', async () => /next call/.test(await text(page, '#device-message')));
  const saved = await app.must('GET', '/api/system/devices', app.admin, undefined, 200);
  assert.equal(saved.configured.microphone, 'test');
  assert.equal(saved.configured.speaker, 'none');
  // A device the appliance does not have: the 422's own message, the picker marked.
  await page.evaluate(() => {
    const o = document.createElement('option');
    o.value = '/dev/video99';
    o.textContent = 'gone';
    document.querySelector('#device-camera').append(o);
  });
  await page.selectOption('#device-camera', '/dev/video99');
  const bad = await app.request('PUT', '/api/system/devices', app.admin, { camera: '/dev/video99' });
  assert.equal(bad.status, 422);
  await page.tap('#device-save');
  await until('the refused device', async () => (await text(page, '#device-error')) === bad.body.error.message);
  assert.equal(await page.getAttribute('#device-camera', 'aria-invalid'), 'true');
  await page.selectOption('#device-camera', 'auto');

  const id = await page.evaluate(() => [...document.querySelectorAll('#timing-list [data-timing]')]
    .find((li) => li.textContent.includes('Sunday 06:00'))?.dataset.timing);
  await page.tap(`#timing-list [data-timing="${id}"] button`);
  await until('the edit form', async () => (await text(page, '#timing-form-title')) === 'Change hours');
  await fill(0, '06:00', '08:00', 30);
  await until('the edited Sunday hours', async () => (await text(page, '#timing-list')).includes('Sunday 06:00–08:00, 30-minute slots'));
  const list = await app.must('GET', `/api/video-consultations/timings?doctor_id=${DOCTOR_A}`, app.admin, undefined, 200);
  assert.ok(list.timings.some((t) => t.id === id && t.end_time === '08:00' && t.slot_duration_minutes === 30));

  // An overlap: the server's own words on screen.
  const refused = await app.request('POST', '/api/video-consultations/timings', app.admin,
    { doctor_id: DOCTOR_A, day_of_week: 0, start_time: '07:30', end_time: '09:00', slot_duration_minutes: 30 });
  assert.equal(refused.status, 409);
  await fill(0, '07:30', '09:00', 30);
  await until('the overlap message', async () => (await text(page, '#timing-error')) === refused.body.error.message);
  await checkScreen(page, artifacts, 'settings-overlap');

  await page.tap('#settings-back');
  await until('back to sign-in', async () => (await screenOf(page)) === 'signin');
  // The preview stops with Settings.
  const stillAtClose = await page.getAttribute('#device-preview', 'src');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(await page.getAttribute('#device-preview', 'src'), stillAtClose);
  await context.close();
});

test('untouched, the kiosk signs itself out (Today at 1920×1080)', { timeout: 180000 }, async () => {
  const { context, page } = await openKiosk(browser, app, { width: 1920, height: 1080 });
  await signIn(page, DOCTOR_B);
  await until('Today', async () => (await screenOf(page)) === 'today');
  await until('the day list', () => page.evaluate(() => document.querySelectorAll('#day-list .appt').length > 0));
  await checkScreen(page, artifacts, 'today-1920');
  // The short-lived token is renewed while the screen is in use.
  const first = await page.evaluate(() => window.consultKiosk.token);
  await page.evaluate(() => { window.consultKiosk.renewAt = 0; });
  await until('a renewed token', () => page.evaluate((t) => window.consultKiosk.token && window.consultKiosk.token !== t, first));
    // Pretend the last touch was long ago rather than wait five minutes.
  await page.evaluate(() => { window.consultKiosk.lastTouch = Date.now() - (window.consultKiosk.idleSeconds - 20) * 1000; });
  await until('the sign-out warning', () => visible(page, '#idle-warning'));
  await checkScreen(page, artifacts, 'idle-warning');
  await page.evaluate(() => { window.consultKiosk.lastTouch = Date.now() - window.consultKiosk.idleSeconds * 1000; });
  await until('signed out', async () => (await screenOf(page)) === 'signin' && (await page.evaluate(() => window.consultKiosk.token)) === null);
  await context.close();
});

test('the appliance stops: the kiosk says so plainly', { timeout: 180000 }, async () => {
  const { context, page } = await openKiosk(browser, app);
  await signIn(page, DOCTOR_B);
  await until('Today', async () => (await screenOf(page)) === 'today');
  await until('live updates connected', () => page.evaluate(() => window.consultKiosk.lobbyConnected));
  app.proc.kill('SIGTERM');
  await app.exited;
  await until('the reconnecting notice', async () => (await visible(page, '#problem')) &&
    /not answering|reconnecting/i.test(await text(page, '#problem')), 30000);
  await until('the appliance reported as not answering', async () => /not answering/.test(await text(page, '#net-chip')), 30000);
  await page.screenshot({ path: join(artifacts, 'appliance-down.png') });
  await context.close();
});
