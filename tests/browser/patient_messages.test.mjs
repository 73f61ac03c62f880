// Settings' "How patients hear from the clinic" on the kiosk against a real consultd
// --demo: the admin finds a patient by part of their name, sees the clinic's default and
// whether SMS or email can reach each patient (never the number), chooses for one, and
// the choice is kept (read back through the API and after reopening Settings); a refused
// save says why and puts the old choice back. Screens scanned with axe and the 48 px check.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { applianceForTests, test, until } from './lib/appliance.mjs';
import { checkScreen, openKiosk, openSettings, screenOf, textOf, visible } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'patient-messages');
mkdirSync(artifacts, { recursive: true });

const env = applianceForTests(buildDir);
const text = textOf;

test('Settings: the admin finds a patient and chooses how they hear from the clinic', { timeout: 300000 }, async () => {
  const [id, name, phone] = execFileSync('sqlite3', ['-separator', '|', join(env.app.dir, 'state', 'consult.db'),
    "SELECT id, full_name, phone FROM patients WHERE phone IS NOT NULL ORDER BY full_name LIMIT 1"], { encoding: 'utf8' })
    .trim().split('|');
  const { context, page } = await openKiosk(env.browser, env.app, { width: 1280, height: 800 });
  await openSettings(page);
  await until('the clinic default said', async () => /default: SMS \(email as backup\)/.test(await text(page, '#pm-default')));
  await until('patients listed', async () => (await page.locator('#pm-list li.patient-choice').count()) > 0);

  const surname = name.split(' ').at(-1);
  await page.fill('#pm-search', surname.toLowerCase());
  const row = `#pm-list li[data-patient="${id}"]`;
  const names = () => page.locator('#pm-list li.patient-choice .name').allTextContents();
  await until('only the names that match', async () => (await names()).every((n) => n.toLowerCase().includes(surname.toLowerCase())));
  await until('the patient found', () => visible(page, row));
  assert.ok(!(await text(page, '#pm-list')).includes(phone), 'no phone number on the screen');
  assert.match(await page.locator(`${row} select`).inputValue(), /^$/, 'the clinic default');

  await page.locator(`${row} select`).selectOption('email');
  await until('saved', async () => /Saved/.test(await text(page, row)));
  const stored = await env.app.get(`/api/patients/${id}/notifications`, env.app.admin);
  assert.equal(stored.body.notify_via, 'email');
  await page.evaluate(() => document.querySelector('#pm-title').scrollIntoView());
  await checkScreen(page, artifacts, 'patient-messages');

  // A refused save (here: the box paired with the clinic system meanwhile) says why, and
  // the select shows what is really stored.
  await page.route(`**/api/patients/${id}/notifications`, (route) => route.fulfill({
    status: 409, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'managed_by_cloud', message: 'patients belong to the clinic system on this box: change the choice there (notify_via)' } }),
  }));
  await page.locator(`${row} select`).selectOption('none');
  await until('the refusal said', async () => /change the choice there/.test(await text(page, '#pm-error')));
  assert.equal(await page.locator(`${row} select`).inputValue(), 'email');
  await page.unroute(`**/api/patients/${id}/notifications`);

  // Reopened, Settings shows the stored choice.
  await page.tap('#settings-back');
  await until('back to sign-in', async () => (await screenOf(page)) === 'signin');
  await openSettings(page);
  await page.fill('#pm-search', surname);
  await until('the patient again', () => visible(page, row));
  await until('the stored choice', async () => (await page.locator(`${row} select`).inputValue()) === 'email');
  await context.close();
});
