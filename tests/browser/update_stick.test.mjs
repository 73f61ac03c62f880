// An update from a USB stick on the kiosk, against a real consultd --demo: Settings looks for
// the stick, lists what it holds (a good bundle with an Install button, one made for other
// hardware with the reason and no button), installs the good one after a confirmation and
// shows the outcome, and says so when nobody answers a request. The box's root side is the
// real `consultctl update stick`, run here when the request appears, with a folder for
// the stick and tests/standins/fake_rauc.sh for RAUC (as in
// tests/integration/update_stick_test.cpp). Screens saved, scanned with axe-core and
// checked for 48 px targets.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applianceForTests, test, until } from './lib/appliance.mjs';
import { checkScreen, openKiosk, openSettings, textOf, visible } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'update-stick');
mkdirSync(artifacts, { recursive: true });
const source = resolve(new URL('../..', import.meta.url).pathname);

const env = applianceForTests(buildDir);
const text = textOf;

const RAUC_STATUS = "RAUC_SYSTEM_COMPATIBLE='consult-appliance-x86_64'\nRAUC_SYSTEM_BOOTED_BOOTNAME='a'\n"
  + "RAUC_BOOT_PRIMARY='rootfs.0'\nRAUC_SYSTEM_SLOTS='rootfs.0 rootfs.1'\nRAUC_SLOTS='1 2'\nRAUC_SLOT_STATE_1='booted'\nRAUC_SLOT_CLASS_1='rootfs'\n"
  + "RAUC_SLOT_BOOTNAME_1='a'\nRAUC_SLOT_BOOT_STATUS_1='good'\nRAUC_SLOT_STATE_2='inactive'\nRAUC_SLOT_CLASS_2='rootfs'\n"
  + "RAUC_SLOT_BOOTNAME_2='b'\nRAUC_SLOT_BOOT_STATUS_2='good'\n";
const bundle = (version, family = 'consult-appliance-x86_64') =>
  `compatible=${family}\nversion=${version}\n${'\0'.repeat(3 * 1048576)}`;

// The box's root side: answers the request in the state folder once, as the path unit starts it.
function rootAnswers(work) {
  return new Promise((done) => {
    execFile(env.app.consultctl, ['--config', join(work, 'ctl.conf'), '--state-dir', join(env.app.dir, 'state'), 'update', 'stick'], {
      timeout: 60000,
      env: {
        ...process.env,
        CONSULT_RAUC: join(source, 'tests/standins/fake_rauc.sh'),
        FAKE_RAUC_DIR: join(work, 'rauc'),
        CONSULT_REBOOT_COMMAND: join(work, 'reboot.sh'),
        CONSULT_BOOT_ID_FILE: join(work, 'boot_id'),
        CONSULT_OS_RELEASE: '/dev/null',
        CONSULT_UPDATE_STICK_DIR: join(work, 'stick'),
      },
    }, (err, stdout, stderr) => done({ code: err ? err.code : 0, stdout, stderr }));
  });
}

test('Settings: a bundle on a USB stick is found, checked and installed, and the box restarts into it', { timeout: 300000 }, async () => {
  const work = join(env.app.dir, 'stick-test');
  mkdirSync(join(work, 'rauc'), { recursive: true });
  mkdirSync(join(work, 'stick'), { recursive: true });
  writeFileSync(join(work, 'ctl.conf'), `[http]\nport=${env.app.port}\n`);
  writeFileSync(join(work, 'rauc', 'status'), RAUC_STATUS);
  writeFileSync(join(work, 'rauc', 'log'), '');
  writeFileSync(join(work, 'boot_id'), 'boot-1\n');
  writeFileSync(join(work, 'reboot.sh'), `#!/bin/sh\necho restart >>'${join(work, 'rauc', 'log')}'\n`);
  chmodSync(join(work, 'reboot.sh'), 0o755);
  writeFileSync(join(work, 'stick', 'consult-appliance-2.0.0.raucb'), bundle('2.0.0'));
  writeFileSync(join(work, 'stick', 'other-box.raucb'), bundle('2.0.0', 'another-family-x86_64'));
  const request = join(env.app.dir, 'state', 'update-stick', 'request');

  const { context, page } = await openKiosk(env.browser, env.app, { width: 1280, height: 800 });
  await openSettings(page);
  await until('the software card', async () => (await text(page, '#software-facts')).length > 0);
  await page.evaluate(() => document.querySelector('#stick-title').scrollIntoView());
  await page.tap('#stick-look');
  await until('the request written', () => existsSync(request));
  await until('the kiosk waits for the box', async () => /Asking the box/.test(await text(page, '#stick-state')));
  const looked = await rootAnswers(work);
  assert.equal(looked.code, 0, looked.stderr);
  await until('the stick listed', async () => (await page.locator('#stick-bundles li').count()) === 2);
  const items = await page.locator('#stick-bundles li').allTextContents();
  assert.match(await text(page, '#stick-state'), /2 updates on the USB stick, 1 that this box can install/, items.join(' | '));
  assert.ok(items.some((t) => /Version 2\.0\.0 \(consult-appliance-2\.0\.0\.raucb, 3 MB\)Install 2\.0\.0/.test(t)), items.join(' | '));
  assert.ok(items.some((t) => /cannot be installed, it is made for 'another-family-x86_64'/.test(t)), items.join(' | '));
  assert.equal(await page.locator('#stick-bundles button').count(), 1, 'only the bundle for this box can be installed');
  await checkScreen(page, artifacts, 'stick-found');

  await page.locator('#stick-bundles button').tap();
  await until('the confirmation', () => page.evaluate(() => document.getElementById('confirm').open));
  assert.match(await text(page, '#confirm'), /Install version 2\.0\.0 from the USB stick\?/);
  await page.tap('#confirm-yes');
  await until('the install asked for', () => /"install"/.test(readFileSync(request, 'utf8')));
  const installed = await rootAnswers(work);
  assert.equal(installed.code, 0, installed.stderr);
  await until('the outcome', async () => /Installed 2\.0\.0\. You may take the stick out\./.test(await text(page, '#stick-state')));
  assert.equal(readFileSync(join(work, 'rauc', 'log'), 'utf8'), 'install 2.0.0\nrestart\n');
  assert.equal(await page.locator('#stick-bundles li').count(), 0);
  assert.equal(await visible(page, '#stick-error'), false);
  await checkScreen(page, artifacts, 'stick-installed');

  // A request nobody answers (a box without the appliance's system: no path unit) is said,
  // not waited for: here the request is made to look two minutes old.
  await page.tap('#stick-look');
  await until('asked again', async () => /Asking the box/.test(await text(page, '#stick-state')));
  const asked = JSON.parse(readFileSync(request, 'utf8'));
  writeFileSync(request, JSON.stringify({ ...asked, at: new Date(Date.now() - 120000).toISOString().replace(/\.\d+Z$/, 'Z') }));
  await until('nobody answered, said', async () => /Nothing on this box answered the request/.test(await text(page, '#stick-error')));
  assert.equal(await page.locator('#stick-look').isDisabled(), false, 'the button works again');
  await context.close();
});
