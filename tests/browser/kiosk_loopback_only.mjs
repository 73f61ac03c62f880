// The kiosk's own screen with no LAN at all: run by tests/browser/run_loopback_only.sh
// in a network namespace that has only `lo`. consultd's webrtcbin gets 127.0.0.1 for a
// screen on this box (add-local-ip-address), and Chromium, which leaves loopback out of
// ICE by default, gathers it with --allow-loopback-in-peer-connection (as the kiosk unit
// runs it). Proves both halves: the switch is what makes the difference, and the whole
// call (Start, a patient, Admit) shows the patient's video on the kiosk.
// Not named *.test.mjs: tests/CMakeLists.txt registers it with its own runner.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Appliance, test, DOCTOR_B, launchBrowser, until } from './lib/appliance.mjs';
import { bookAppointment, kioskSeesPatient, openKiosk, patientJoins, screenOf, signIn, visible } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'kiosk');
mkdirSync(artifacts, { recursive: true });
const LOOPBACK = '--allow-loopback-in-peer-connection';

let app;
before(async () => {
  app = new Appliance(buildDir, ['--set', 'media.max_width=640', '--set', 'media.max_height=360']);
  await app.start();
});
after(async () => { await app?.stop(); });

// Host candidates a page's RTCPeerConnection gathers here.
async function hostCandidates(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${app.base}/kiosk`);
  const found = await page.evaluate(() => new Promise((resolve) => {
    const pc = new RTCPeerConnection();
    const out = [];
    pc.createDataChannel('probe');
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) out.push(e.candidate.candidate);
      if (!e.candidate) { pc.close(); resolve(out); }
    };
    pc.createOffer().then((o) => pc.setLocalDescription(o));
    setTimeout(() => { pc.close(); resolve(out); }, 10000);
  }));
  await context.close();
  return found;
}

test('only lo here: Chromium gathers 127.0.0.1 with the switch and nothing without it', { timeout: 180000 }, async () => {
  const plain = await launchBrowser();
  const without = await hostCandidates(plain);
  await plain.close();
  assert.deepEqual(without.filter((c) => c.includes(' 127.0.0.1 ')), [], 'no loopback candidate without the switch');
  const flagged = await launchBrowser([LOOPBACK]);
  const withSwitch = await hostCandidates(flagged);
  await flagged.close();
  assert.ok(withSwitch.some((c) => c.includes(' 127.0.0.1 ') && c.includes('typ host')), withSwitch.join('\n'));
});

test('with no LAN the kiosk shows the patient forwarded through consultd', { timeout: 480000 }, async () => {
  const browser = await launchBrowser([LOOPBACK]);
  try {
    const appt = await bookAppointment(app);
    const { page } = await openKiosk(browser, app);
    await signIn(page, DOCTOR_B);
    await until('Today', async () => (await screenOf(page)) === 'today');
    for (let i = 0; i < appt.dayOffset; ++i) await page.tap('#day-next');
    const row = `#day-list [data-appointment="${appt.id}"]`;
    await until('the appointment', () => visible(page, row));
    await page.tap(`${row} button.primary`);
    await until('the invite link', () => page.evaluate(() => document.getElementById('invite-link').textContent.includes('/j/')));
    const link = (await page.evaluate(() => document.getElementById('invite-link').textContent)).split(/\s+/)[0];
    const patient = await patientJoins(browser, link);
    const item = '#waiting-list .waiting-item button.primary';
    await until('the patient in the waiting room', () => visible(page, item), 20000);
    await page.tap(item);
    await until('the call screen', async () => (await screenOf(page)) === 'call');
    const stats = await kioskSeesPatient(page, 'loopback only');
    assert.ok(stats.videoWidth > 0);
    const pair = await page.evaluate(async () => {
      let out = null;
      const stats = await window.consultKiosk.room.peer.pc.getStats();
      stats.forEach((r) => {
        if (r.type === 'candidate-pair' && r.state === 'succeeded' && r.nominated) {
          const local = stats.get(r.localCandidateId), remote = stats.get(r.remoteCandidateId);
          out = { local: local?.address, remote: remote?.address };
        }
      });
      return out;
    });
    assert.deepEqual(pair, { local: '127.0.0.1', remote: '127.0.0.1' });
    await page.screenshot({ path: join(artifacts, 'loopback-only-call.png') });
    await patient.context.close();
  } finally {
    await browser.close();
  }
});
