// The first-start setup screen on the kiosk, against a real consultd --demo whose admin
// PIN is taken away (a box clinic IT gave no provisioning file): the screen instead of the
// sign-in, with the zones and the network; a short PIN and two different PINs refused
// with the reason; then the admin PIN and the zone set, the sign-in shown, and the new PIN
// opening Settings. The screen saved, scanned with axe-core and checked for 48 px targets.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applianceForTests, test, until } from './lib/appliance.mjs';
import { checkScreen, openSetupScreen, openSettings, screenOf, textOf, visible } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'setup');
mkdirSync(artifacts, { recursive: true });
const env = applianceForTests(buildDir);

async function typePin(page, field, pin) {
  await page.tap(field);
  for (const d of pin) await page.tap(`[data-setup-digit="${d}"]`);
}

test('with no admin PIN the kiosk sets the box up: PIN twice, time zone, then the sign-in', { timeout: 300000 }, async () => {
  const { context, page } = await openSetupScreen(env);
  assert.equal(await visible(page, '#doctor-list'), false, 'no sign-in while the box is not set up');
  assert.deepEqual(await page.evaluate(() => window.screensShown), ['starting', 'setup'],
                   'the sign-in never showed, not even before the box said it needs setting up');
  assert.equal(await visible(page, '#open-settings'), false, 'no Settings button: there is no admin PIN to open it');
  assert.ok((await page.locator('#setup-zone option').count()) > 100, 'the zones to choose from');
  assert.equal(await page.inputValue('#setup-zone'), 'UTC');
  await until('the network state', async () => (await textOf(page, '#setup-network')).length > 0);
  await until('the cloud state', async () => /Not paired/.test(await textOf(page, '#setup-cloud')));
  await checkScreen(page, artifacts, 'setup');

  await typePin(page, '#setup-pin', '12');
  await page.tap('#setup-finish');
  await until('a short PIN refused', async () => /4 to 8 digits/.test(await textOf(page, '#setup-error')));
  await page.tap('#setup-pin');
  await page.tap('#setup-clear');
  await typePin(page, '#setup-pin', '482915');
  await typePin(page, '#setup-pin-again', '482916');
  await page.tap('#setup-finish');
  await until('two different PINs refused', async () => /differ/.test(await textOf(page, '#setup-error')));
  assert.equal(await page.inputValue('#setup-pin-again'), '', 'the second PIN is asked again');
  assert.equal(await screenOf(page), 'setup');

  await typePin(page, '#setup-pin-again', '482915');
  await page.selectOption('#setup-zone', 'America/Chicago');
  await page.tap('#setup-finish');
  await until('the sign-in after setup', async () => (await screenOf(page)) === 'signin');
  await until('the doctor list', () => page.evaluate(() => document.querySelectorAll('#doctor-list button').length >= 2));
  assert.equal(await page.inputValue('#setup-pin'), '', 'the PIN left the page');
  assert.match(readFileSync(join(env.app.dir, 'state', 'system.conf'), 'utf8'), /time_zone=America\/Chicago/);
  await openSettings(page, '482915');
  await context.close();

  // A fresh page on a box that is set up goes straight to the sign-in.
  const again = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, hasTouch: true });
  const second = await again.newPage();
  await second.goto(`${env.app.base}/kiosk`);
  await until('the doctor list', () => second.evaluate(() => document.querySelectorAll('#doctor-list button').length >= 2));
  assert.equal(await screenOf(second), 'signin');
  await again.close();
});
