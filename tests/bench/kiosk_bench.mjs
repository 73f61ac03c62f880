// Kiosk numbers, printed, never asserted: the PIN check (scrypt) per sign-in and what
// it does to the main loop, the Today screen's render time with 40 appointments, and
// the time from a tap to the pressed look being painted.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Appliance, DOCTOR_B, launchBrowser, until } from '../browser/lib/appliance.mjs';
import { openKiosk, screenOf, signIn } from '../browser/lib/kiosk.mjs';

const buildDir = process.argv[2] || 'build';
const SIGN_INS = Number(process.env.SIGN_INS || 20);
const APPOINTMENTS = 40;

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const line = (label, xs, unit = 'ms') =>
  console.log(`${label.padEnd(44)} p50 ${pct(xs, 50).toFixed(1)} ${unit}  p95 ${pct(xs, 95).toFixed(1)} ${unit}  max ${Math.max(...xs).toFixed(1)} ${unit}  (n=${xs.length})`);

async function timed(f) {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

const app = new Appliance(buildDir, ['--set', 'media.max_width=640', '--set', 'media.max_height=360']);
await app.start();
let browser;
try {
  // 1. Sign-in: the HTTP round trip, the KDF itself (from the audit rows), /healthz meanwhile.
  const signIns = [];
  const healthDuring = [];
  let signingIn = true;
  const probe = (async () => {
    while (signingIn) healthDuring.push(await timed(() => app.get('/healthz')));
  })();
  for (let i = 0; i < SIGN_INS; ++i)
    signIns.push(await timed(() => app.must('POST', '/api/kiosk/sign-in', null, { doctor_id: DOCTOR_B, pin: '5678' }, 200)));
  signingIn = false;
  await probe;
  const healthIdle = [];
  for (let i = 0; i < 50; ++i) healthIdle.push(await timed(() => app.get('/healthz')));
  const kdf = execFileSync('sqlite3', [join(app.dir, 'state', 'consult.db'),
    "SELECT json_extract(detail, '$.kdf_ms') FROM audit_log WHERE action = 'kiosk.sign_in'"], { encoding: 'utf8' })
    .trim().split('\n').map(Number).filter((x) => x > 0);
  line('sign-in round trip (POST /api/kiosk/sign-in)', signIns);
  line('scrypt PIN check on the worker thread', kdf);
  line('/healthz while sign-ins run', healthDuring);
  line('/healthz idle', healthIdle);

  // 2. Today with 40 appointments: book them on a day of their own (doctor B, all-day hours).
  const day = new Date(Date.now() + 3 * 86400000);
  const ymd = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
  const slots = await app.must('GET', `/api/video-consultations/availability?doctor_id=${DOCTOR_B}&date=${ymd}`, app.admin, undefined, 200);
  let booked = 0;
  for (const slot of slots.slots) {
    if (booked >= APPOINTMENTS) break;
    const r = await app.request('POST', '/api/appointments', app.admin, { doctor_id: DOCTOR_B, patient_id: app.patients[booked % app.patients.length],
      starts_at: slot.starts_at, duration_minutes: slot.duration_minutes, consultation_type: 'video' });
    if (r.status === 201) booked++;
  }
  browser = await launchBrowser(['--allow-loopback-in-peer-connection']);
  const { page } = await openKiosk(browser, app);
  await signIn(page, DOCTOR_B);
  await until('Today', async () => (await screenOf(page)) === 'today');
  const renders = [];
  const taps = [];
  for (let i = 0; i < 3; ++i) await page.tap('#day-next');
  await until(`${booked} appointments on the day`, () => page.evaluate((n) => document.querySelectorAll('#day-list .appt').length >= n, booked));
  for (let i = 0; i < 10; ++i) {
    await page.evaluate(() => { window.consultKiosk.lastRenderMs = null; window.consultKiosk.dayLoadedAt = 0; });
    await until('a fresh render', () => page.evaluate(() => window.consultKiosk.lastRenderMs !== null), 40000);
    renders.push(await page.evaluate(() => window.consultKiosk.lastRenderMs));
    await page.evaluate(() => { window.consultKiosk.lastFeedbackMs = null; });
    await page.tap('#open-waiting');
    taps.push(await until('the tap feedback', () => page.evaluate(() => window.consultKiosk.lastFeedbackMs), 5000, 10));
    await page.tap('#waiting-back');
    await until('Today', async () => (await screenOf(page)) === 'today');
  }
  line(`Today render, ${booked} appointments (DOM build)`, renders);
  line('tap → pressed look painted (next frame)', taps);
} finally {
  await browser?.close();
  await app.stop();
}
