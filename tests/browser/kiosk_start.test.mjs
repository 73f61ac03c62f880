// The kiosk's starting page (systemd/kiosk/starting.html, what the kiosk unit's browser
// opens from the box's disk), against a real consultd --demo: while nothing answers on
// consultd's port it says the consult room is starting and keeps asking; once consultd
// answers there (a relay to the running consultd, started later) it opens the kiosk's
// sign-in by itself. And with consultd already up, it goes straight to the sign-in.
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { applianceForTests, test, until } from './lib/appliance.mjs';
import { screenOf, textOf } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const env = applianceForTests(buildDir);
const startingPage = pathToFileURL(resolve('systemd/kiosk/starting.html')).href;

function freePort() {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => done(port)); });
  });
}

test('the starting page waits for consultd, then opens the sign-in by itself', { timeout: 180000 }, async () => {
  const port = await freePort();
  const page = await env.browser.newPage();
  await page.goto(`${startingPage}?port=${port}`);
  assert.match(await textOf(page, 'main'), /Consult Room is starting/);
  await new Promise((r) => setTimeout(r, 5000));
  assert.equal(new URL(page.url()).protocol, 'file:', 'nothing answers: the page stays and asks again');

  const target = new URL(env.app.base);
  const relay = createServer((c) => {
    const up = connect(Number(target.port), target.hostname);
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  }).listen(port, '127.0.0.1');
  try {
    await until('the kiosk page', async () => page.url().startsWith(`http://127.0.0.1:${port}/kiosk`), 60000);
    await until('the sign-in', async () => (await screenOf(page)) === 'signin', 60000);
  } finally {
    await page.close();
    relay.close();
  }
});

test('with consultd up the starting page goes straight to the sign-in', { timeout: 120000 }, async () => {
  const page = await env.browser.newPage();
  await page.goto(`${startingPage}?port=${new URL(env.app.base).port}`);
  await until('the sign-in', async () => (await screenOf(page)) === 'signin', 60000);
  assert.ok(page.url().startsWith(`${env.app.base}/kiosk`));
  await page.close();
});

test('a port that is not a number falls back to consultd\'s own, never elsewhere', { timeout: 60000 }, async () => {
  const page = await env.browser.newPage();
  await page.goto(`${startingPage}?port=${encodeURIComponent('80@evil.example')}`);
  assert.equal(await page.evaluate(() => base), 'http://127.0.0.1:8080');
  await page.close();
});
