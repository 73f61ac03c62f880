// What first boot leaves for clinic IT, on the kiosk against a real consultd --demo: the
// recovery key card in Settings (hidden without a key file, shown in eight groups on
// request, a wrong last group refused with the reason, the right one removes the key from
// the box, and the card then says when), and a refused provisioning file said on the
// sign-in screen. Screens saved, scanned with axe-core and checked for 48 px targets.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applianceForTests, test, until } from './lib/appliance.mjs';
import { checkScreen, openKiosk, openSettings, screenOf, textOf, visible } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'recovery-key');
mkdirSync(artifacts, { recursive: true });
const KEY = 'fhkvrnjc-ibdrecjl-tlddnhje-ectnuuul-bcvhrkgn-hlbrunlk-jtvkuvbd-htvdeghv';

const env = applianceForTests(buildDir);
const text = textOf;

test('Settings: the recovery key is shown once, confirmed by its last group, then gone from the box', { timeout: 300000 }, async () => {
  const { context, page } = await openKiosk(env.browser, env.app, { width: 1280, height: 800 });
  await openSettings(page);
  await until('the other cards loaded', async () => (await text(page, '#software-facts')).length > 0);
  assert.equal(await visible(page, '#recovery-card'), false, 'a box without a key shows no card');
  await page.tap('#settings-back');
  await until('back to sign-in', async () => (await screenOf(page)) === 'signin');

  const file = join(env.app.dir, 'state', 'recovery-key');
  writeFileSync(file, KEY + '\n', { mode: 0o600 });
  await openSettings(page);
  await until('the recovery key card', () => visible(page, '#recovery-card'));
  assert.match(await text(page, '#recovery-state'), /Write this box's recovery key on paper/);
  assert.equal(await visible(page, '#recovery-groups'), false, 'the key is not on screen before it is asked for');
  await page.tap('#recovery-reveal');
  await until('the key in eight groups', async () => (await page.locator('#recovery-groups li').count()) === 8);
  assert.deepEqual(await page.locator('#recovery-groups li').allTextContents(), KEY.split('-'));
  await page.evaluate(() => document.querySelector('#recovery-title').scrollIntoView());
  await checkScreen(page, artifacts, 'recovery-key-shown');

  await page.fill('#recovery-last', 'htvdeghc');
  await page.tap('#recovery-confirm');
  await until('the wrong group refused', async () => /not the key's last group/.test(await text(page, '#recovery-error')));
  assert.ok(existsSync(file), 'a wrong group keeps the key');

  await page.fill('#recovery-last', 'HTVD EGHV');
  await page.tap('#recovery-confirm');
  await until('the key removed', async () => /written down and removed from this box/.test(await text(page, '#recovery-state')));
  assert.equal(existsSync(file), false);
  assert.equal(await page.locator('#recovery-groups li').count(), 0, 'the key left the screen');
  assert.equal(await visible(page, '#recovery-reveal'), false);
  await checkScreen(page, artifacts, 'recovery-key-removed');
  await context.close();
});

test('a refused provisioning file is said on the kiosk for clinic IT, and goes once one is applied', { timeout: 300000 }, async () => {
  const result = join(env.app.dir, 'state', 'provision-result.json');
  writeFileSync(result, JSON.stringify({ ok: false, message: 'cloud.url: must be https://', at: new Date().toISOString() }));
  const { context, page } = await openKiosk(env.browser, env.app, { width: 1280, height: 800 });
  await until('the refusal on the screen', async () => /provisioning file was refused \(cloud\.url: must be https:\/\/\)/
    .test(await text(page, '#problem')));
  assert.equal(await visible(page, '#problem'), true);
  await checkScreen(page, artifacts, 'provisioning-refused');
  writeFileSync(result, JSON.stringify({ ok: true, message: 'admin PIN set', at: new Date().toISOString() }));
  await until('the refusal gone', async () => !(await visible(page, '#problem')), 30000);
  await context.close();
});
