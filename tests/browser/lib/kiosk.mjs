// Driving the kiosk (the doctor's touch screen) and a patient page in tests: touch
// emulation, PIN sign-in, a booked appointment without a session, the patient's join,
// and each screen's checks (PNG, axe-core scan, 48 px targets).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DOCTOR_B, until } from './appliance.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
export const DOCTOR_A = '5d0c1a1e-0000-4000-8000-00000000d0c1';
export const PINS = { [DOCTOR_B]: '5678', [DOCTOR_A]: '1234', admin: '0000' };

export async function openKiosk(browser, app, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, hasTouch: true, isMobile: false });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('[kiosk page error]', e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log('[kiosk console]', m.text()); });
  await page.goto(`${app.base}/kiosk`);
  await until('the doctor list', () => page.evaluate(() => document.querySelectorAll('#doctor-list button').length >= 2));
  return { context, page };
}

export const textOf = (page, sel) => page.evaluate((s) => document.querySelector(s)?.textContent || '', sel);
export const screenOf = (page) => page.evaluate(() => document.body.dataset.screen);
export const visible = (page, sel) => page.evaluate((s) => {
  const el = document.querySelector(s);
  return !!el && !el.closest('[hidden]') && el.getClientRects().length > 0;
}, sel);

export async function enterPin(page, pin) {
  for (const d of pin) await page.tap(`[data-digit="${d}"]`);
  await page.tap('#pin-ok');
}

// Settings, behind the demo's admin PIN.
export async function openSettings(page, pin = '0000') {
  await page.tap('#open-settings');
  await until('the admin PIN pad', () => visible(page, '#pin-panel'));
  await enterPin(page, pin);
  await until('Settings', async () => (await screenOf(page)) === 'settings');
}

export async function signIn(page, doctor, pin = PINS[doctor]) {
  await page.tap(`#doctor-list [data-doctor="${doctor}"]`);
  await until('the PIN pad', () => visible(page, '#pin-panel'));
  await enterPin(page, pin);
}

// A video appointment for doctor B in the next free slot of today (tomorrow late at
// night); its session is prepared as it is booked, and the kiosk's Open opens it.
export async function bookAppointment(app) {
  const soon = Date.now() + 120000;
  for (let day = 0; day < 7; ++day) {
    const date = new Date(Date.now() + day * 86400000);
    const ymd = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
    const slots = await app.must('GET', `/api/video-consultations/availability?doctor_id=${DOCTOR_B}&date=${ymd}`, app.admin, undefined, 200);
    for (const slot of slots.slots.filter((s) => Date.parse(s.starts_at) >= soon)) {
      const patient = app.patients[app.turn++ % app.patients.length];
      const r = await app.request('POST', '/api/appointments', app.admin,
        { doctor_id: DOCTOR_B, patient_id: patient, starts_at: slot.starts_at, duration_minutes: slot.duration_minutes, consultation_type: 'video' });
      if (r.status === 201) return { ...r.body, dayOffset: day };
      if (r.status !== 409) throw new Error('booking: ' + JSON.stringify(r.body));
    }
  }
  throw new Error('no free slot for doctor B this week');
}

// The patient's page from the invite link, through the pre-call check into the waiting room.
export async function patientJoins(browser, link) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('[patient page error]', e.message));
  await page.goto(link);
  const state = () => page.evaluate(() => document.body.dataset.state);
  await until('the pre-call screen', async () => (await state()) === 'precall', 20000);
  await until('the camera preview', () => page.evaluate(() => document.getElementById('preview').videoWidth > 0));
  await page.click('#play-sound');
  await page.click('#heard-sound');
  await page.click('#continue');
  await until('the waiting screen', async () => (await state()) === 'waiting');
  return { context, page, state };
}

// What the kiosk's viewer connection decodes of the patient's forwarded video.
export function patientVideoStats(page) {
  return page.evaluate(async () => {
    const room = window.consultKiosk.room;
    const pc = room?.peer?.pc;
    if (!pc || !room.patientTrack) return null;
    let out = null;
    (await pc.getStats(room.patientTrack)).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') out = { framesDecoded: r.framesDecoded || 0, width: r.frameWidth || 0 };
    });
    const v = document.getElementById('patient-video');
    return out && { ...out, videoWidth: v.videoWidth, connection: pc.connectionState };
  });
}

export async function kioskSeesPatient(page, what) {
  const first = await until(`${what}: the patient's first frame on the kiosk`, async () => {
    const s = await patientVideoStats(page);
    return s && s.framesDecoded > 0 && s.videoWidth > 0 ? s : null;
  }, 45000, 250);
  return until(`${what}: the patient's frames advancing on the kiosk`, async () => {
    const s = await patientVideoStats(page);
    return s && s.framesDecoded > first.framesDecoded + 10 ? s : null;
  }, 20000, 250);
}

// Every visible control at least 48×48 CSS pixels.
export async function smallTargets(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('button, input, select, textarea, summary, a[href], [role="button"], [tabindex]')) {
      if (el.closest('[hidden]') || el.type === 'hidden') continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || cs.display === 'none') continue;
      if (r.width < 48 || r.height < 48)
        out.push(`${el.tagName.toLowerCase()}#${el.id || ''}[${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30)}] ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    return out;
  });
}

export async function axeScan(page) {
  // Evaluated through the DevTools protocol: the page's CSP (rightly) refuses an injected <script>.
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(readFileSync(AXE, 'utf8'));
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

// A screen's PNG, its accessibility scan and its touch target sizes.
export async function checkScreen(page, dir, name) {
  await page.screenshot({ path: join(dir, `${name}.png`) });
  const small = await smallTargets(page);
  assert.deepEqual(small, [], `${name}: controls smaller than 48×48 px`);
  const violations = await axeScan(page);
  assert.deepEqual(violations, [], `${name}: serious or critical accessibility violations`);
}

// The kiosk of a box clinic IT gave no provisioning file: the appliance's admin PIN taken
// away, a touch screen of 1280x800, and the setup screen shown. Returns {context, page}.
export async function openSetupScreen(env) {
  const db = join(env.app.dir, 'state', 'consult.db');
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, "DELETE FROM kiosk_pins WHERE subject = 'admin'"]);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, hasTouch: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('[kiosk page error]', e.message));
  // Every screen the page shows, from its first paint (window.screensShown).
  await page.addInitScript(() => {
    window.screensShown = [];
    new MutationObserver(() => {
      const s = document.body?.dataset.screen;
      if (s && s !== window.screensShown.at(-1)) window.screensShown.push(s);
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-screen'] });
  });
  await page.goto(`${env.app.base}/kiosk`);
  await until('the setup screen', async () => (await screenOf(page)) === 'setup');
  return { context, page };
}
