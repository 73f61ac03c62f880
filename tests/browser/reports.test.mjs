// The Reports screen against a real consultd --demo with a few past consultations
// written into its store: in the kiosk's Settings behind the admin PIN (charts, the
// numbers beside them, the CSV download), and /admin/reports opened from another
// address than the box's own (a manager's browser on the LAN), which shows nothing
// before the admin PIN and nothing after signing out. Every screen is saved as a PNG,
// scanned with axe-core and checked for 48 px targets.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Appliance, CLINIC, DOCTOR_B, test, launchBrowser, until } from './lib/appliance.mjs';
import { checkScreen, enterPin, openKiosk, screenOf, visible } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'reports');
mkdirSync(artifacts, { recursive: true });
// run_in_netns.sh gives this namespace 10.99.0.1: a page opened there reaches consultd
// from an address that is not loopback, as a browser elsewhere on the LAN would.
const LAN_HOST = process.env.CONSULT_LAN_HOST || '10.99.0.1';

let app, browser;

const text = (page, sel) => page.evaluate((s) => document.querySelector(s)?.textContent || '', sel);
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

// `daysAgo` days back at `hour`:00 local time, as the store keeps it (UTC).
function at(daysAgo, hour) {
  const d = new Date();
  d.setDate(d.getDate() - daysAgo);
  d.setHours(hour, 0, 0, 0);
  return d.toISOString();
}

// Two consultations held (rated 4 and 5, one recorded), and a no-show, before today.
function seedPast() {
  const patient = app.patients[0];
  const sql = [];
  const held = (daysAgo, duration, level, score, recordedMs) => {
    const appt = randomUUID(), session = randomUUID(), starts = at(daysAgo, 6), started = at(daysAgo, 6).replace(':00:00.000Z', ':02:00.000Z');
    sql.push(`INSERT INTO appointments(id, clinic_id, doctor_id, patient_id, starts_at, consultation_type, status)
              VALUES (${q(appt)}, ${q(CLINIC)}, ${q(DOCTOR_B)}, ${q(patient)}, ${q(starts)}, 'video', 'completed');`);
    sql.push(`INSERT INTO video_consultation_sessions(id, appointment_id, room_name, status, started_at, duration_seconds,
              doctor_joined_at, patient_joined_at) VALUES (${q(session)}, ${q(appt)}, ${q('reports-test-room-' + session)},
              'completed', ${q(started)}, ${duration}, ${q(started)}, ${q(started)});`);
    sql.push(`INSERT INTO video_consultation_participants(id, session_id, user_id, user_type, joined_at, connection_quality)
              VALUES (${q(randomUUID())}, ${q(session)}, ${q(patient)}, 'patient', ${q(started)},
              ${q(JSON.stringify({ level, rtt_ms: 80, loss: 0.01, frames_decoded: 300, audio_decoded: 200 }))});`);
    sql.push(`INSERT INTO session_ratings(session_id, patient_id, score) VALUES (${q(session)}, ${q(patient)}, ${score});`);
    if (recordedMs)
      sql.push(`INSERT INTO recordings(id, session_id, recording_sid, state, started_by, started_at, duration_ms, updated_at)
                VALUES (${q(randomUUID())}, ${q(session)}, ${q('RT' + randomUUID().replace(/-/g, ''))}, 'deleted', ${q(DOCTOR_B)},
                ${q(started)}, ${recordedMs}, ${q(started)});`);
  };
  held(2, 900, 'good', 4, 60000);
  held(1, 1500, 'fair', 5, 0);
  sql.push(`INSERT INTO appointments(id, clinic_id, doctor_id, patient_id, starts_at, consultation_type, status)
            VALUES (${q(randomUUID())}, ${q(CLINIC)}, ${q(DOCTOR_B)}, ${q(patient)}, ${q(at(2, 7))}, 'video', 'no-show');`);
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(app.dir, 'state', 'consult.db'), sql.join('\n')]);
}

before(async () => {
  app = new Appliance(buildDir, ['--set', 'http.bind=0.0.0.0']);
  await app.start();
  seedPast();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

const chartsDrawn = (page, root) => page.evaluate((r) => document.querySelectorAll(`${r} .report-chart canvas`).length, root);

test('kiosk Settings: Reports shows charts with their numbers and downloads the CSV', { timeout: 300000 }, async () => {
  const { context, page } = await openKiosk(browser, app, { width: 1920, height: 1080 });
  await page.tap('#open-settings');
  await until('the admin PIN pad', () => visible(page, '#pin-panel'));
  await enterPin(page, '0000');
  await until('Settings', async () => (await screenOf(page)) === 'settings');
  await until('the report drawn', async () => (await chartsDrawn(page, '#reports')) >= 7);
  const totals = await text(page, '#reports .report-totals');
  assert.match(totals, /Consultations held2 of /, totals);
  assert.match(totals, /4\.5 of 5 from 2 ratings/, totals);
  assert.match(totals, /Recordings1 \(1 min in all/, totals);
  // Every chart has a text alternative, and its numbers in a table beside it.
  const charts = await page.evaluate(() => [...document.querySelectorAll('#reports .report-chart')]
    .map((c) => c.getAttribute('role') === 'img' && c.getAttribute('aria-label')));
  assert.ok(charts.every((l) => l && l.length > 20), JSON.stringify(charts));
  const ratings = await page.evaluate(() => [...document.querySelectorAll('#reports table')]
    .find((t) => t.caption?.textContent === 'Patient ratings')?.innerText || '');
  assert.match(ratings, /4 of 5\s+1/, ratings);
  assert.match(ratings, /5 of 5\s+1/, ratings);
  await page.evaluate(() => document.querySelector('#reports-title').scrollIntoView());
  await checkScreen(page, artifacts, 'settings-reports');

  // The CSV: a download with the header row and one row per day of the period.
  const [download] = await Promise.all([page.waitForEvent('download'), page.tap('#reports [data-report="csv"]')]);
  assert.match(download.suggestedFilename(), /^consultations-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trimEnd().split('\r\n');
  assert.match(lines[0], /^date,appointments,due_appointments,no_shows,no_show_rate,consultations,held,completed,/);
  assert.equal(lines.length, 1 + 28);

  // Another period: the same screen, recounted.
  await page.selectOption('#reports select', '84');
  await until('twelve weeks', async () => /: 84 days\./.test(await text(page, '#reports [role="status"]')));
  await page.tap('#settings-back');
  await until('back to sign-in', async () => (await screenOf(page)) === 'signin');
  assert.equal(await chartsDrawn(page, '#reports'), 0, 'the report stays on screen after Settings closed');
  await context.close();
});

test('/admin/reports from the LAN: nothing before the admin PIN, the report after, nothing after signing out', { timeout: 300000 }, async () => {
  const base = `http://${LAN_HOST}:${app.port}`;
  // The kiosk's own sign-in stays on the box; only the reports-only one answers here.
  const kioskOnly = await fetch(`${base}/api/kiosk/admin-sign-in`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                                    body: JSON.stringify({ pin: '0000' }) });
  assert.equal(kioskOnly.status, 403);

  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('[reports page error]', e.message));
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${base}/admin/reports`);
  await until('the PIN form', () => visible(page, '#pin'));
  assert.equal(await visible(page, '#reports'), false);
  assert.equal(await page.evaluate(() => document.querySelectorAll('table, canvas, .report-totals').length), 0);
  assert.ok(!requests.some((u) => u.includes('/api/reports')), 'the report was asked for before signing in');
  await checkScreen(page, artifacts, 'admin-signin');

  await page.fill('#pin', '1111');
  await page.click('#pin-ok');
  await until('the wrong PIN refused', async () => /Wrong PIN/.test(await text(page, '#signin-error')));
  assert.equal(await page.evaluate(() => document.querySelectorAll('table, canvas').length), 0);

  await page.fill('#pin', '0000');
  await page.click('#pin-ok');
  await until('the report drawn', async () => (await chartsDrawn(page, '#reports')) >= 7);
  assert.match(await text(page, '#reports .report-totals'), /Consultations held2 of /);
  await checkScreen(page, artifacts, 'admin-reports');

  // The token read from this page opens the reports and nothing else.
  const token = await page.evaluate(async (b) => {
    const r = await fetch(`${b}/api/kiosk/admin-sign-in`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                          body: JSON.stringify({ pin: '0000', scope: 'reports' }) });
    return (await r.json()).token;
  }, base);
  const other = await fetch(`${base}/api/recordings`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(other.status, 403);
  const csv = await fetch(`${base}/api/reports.csv`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(csv.status, 200);
  assert.match(await csv.text(), /^date,appointments,/);

  await page.click('#sign-out');
  await until('the PIN form again', () => visible(page, '#pin'));
  assert.equal(await page.evaluate(() => document.querySelectorAll('table, canvas, .report-totals').length), 0);
  await context.close();
});
