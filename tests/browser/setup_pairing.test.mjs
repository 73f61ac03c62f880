// Pairing by code on the first-start screen, against a real consultd --demo (its admin PIN
// taken away) that knows its clinic's project ([cloud] url and anon_key) and a small
// stand-in for the project's consult_claim_pairing_code: the code typed on the screen's
// own letter pad (no keyboard on a touch screen), a wrong code refused with what to do,
// then clinic IT's code pairs the box and the screen says so. The pad saved, scanned with
// axe-core and checked for 48 px targets.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { applianceForTests, test, until } from './lib/appliance.mjs';
import { checkScreen, openSetupScreen, screenOf, textOf, visible } from './lib/kiosk.mjs';

const buildDir = process.env.CONSULT_BUILD_DIR || 'build';
const artifacts = join(buildDir, 'test-artifacts', 'setup');
mkdirSync(artifacts, { recursive: true });

const CODE = 'K7Q4M-Z9PXR';
const claims = [];
let used = false;
const cloud = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    res.setHeader('Content-Type', 'application/json');
    if (req.method === 'POST' && req.url === '/rest/v1/rpc/consult_claim_pairing_code') {
      const code = JSON.parse(body).code;
      claims.push({ code, apikey: req.headers.apikey });
      const ok = !used && code.replace(/-/g, '') === CODE.replace('-', '');
      used ||= ok;
      res.end(JSON.stringify(ok ? [{ clinic_id: '5d0c1a1e-0000-4000-8000-000000000001', device_id: 'box-room-3',
        device_token: 'eyJhbGciOiJIUzI1NiJ9.eyJkZXZpY2VfaWQiOiJib3gtcm9vbS0zIn0.c2ln' }] : []));
      return;
    }
    res.statusCode = 404;   // the sync that follows: nothing here
    res.end('{"message":"not here"}');
  });
});
await new Promise((r) => cloud.listen(0, '127.0.0.1', r));
const env = applianceForTests(buildDir, {
  args: ['--set', `cloud.url=http://127.0.0.1:${cloud.address().port}/rest/v1`, '--set', 'cloud.anon_key=project-anon-key'],
});

async function typeCode(page, code) {
  for (const ch of code.replace('-', '')) await page.tap(`[data-code-key="${ch}"]`);
}

test('the setup screen pairs the box by the code clinic IT made', { timeout: 300000 }, async () => {
  try {
    const { context, page } = await openSetupScreen(env);
    await until('the way to pair', async () => visible(page, '#setup-pair-open'));
    assert.match(await textOf(page, '#setup-cloud'), /code clinic IT made/);

    await page.tap('#setup-pair-open');
    assert.equal(await visible(page, '#setup-code-pad'), true);
    assert.equal(await page.locator('[data-code-key]').count(), 32, 'the whole alphabet, no look-alikes');
    assert.equal(await page.locator('[data-code-key="O"], [data-code-key="0"], [data-code-key="I"], [data-code-key="1"]').count(), 0);
    await typeCode(page, 'ABCDE');
    assert.equal(await page.inputValue('#setup-code'), 'ABCDE');
    await page.tap('#setup-pair-go');
    await until('a short code refused here', async () => /10 letters and digits/.test(await textOf(page, '#setup-pair-error')));
    assert.equal(claims.length, 0, 'a short code never reaches the cloud');
    await typeCode(page, 'FGHJK');
    assert.equal(await page.inputValue('#setup-code'), 'ABCDE-FGHJK', 'shown as clinic IT reads it out');
    await checkScreen(page, artifacts, 'setup-pair');
    await page.tap('#setup-pair-go');
    await until('a wrong code refused by the cloud', async () => /wrong, used or expired/.test(await textOf(page, '#setup-pair-error')));
    assert.deepEqual(claims, [{ code: 'ABCDEFGHJK', apikey: 'project-anon-key' }], 'the code as typed, with the anon key only');

    for (let i = 0; i < 10; i++) await page.tap('#setup-code-delete');
    assert.equal(await page.inputValue('#setup-code'), '');
    await typeCode(page, CODE);
    await page.tap('#setup-pair-go');
    await until('the pad closed', async () => !(await visible(page, '#setup-pair')));
    await until('paired', async () => /Paired with/.test(await textOf(page, '#setup-cloud')));
    assert.equal(await visible(page, '#setup-pair-open'), false, 'nothing left to pair');
    assert.equal(await screenOf(page), 'setup', 'the admin PIN is still to be chosen');
    const cloudState = await env.app.get('/api/system/cloud');
    assert.equal(cloudState.body.clinic_id, '5d0c1a1e-0000-4000-8000-000000000001');
    await context.close();
  } finally {
    cloud.close();
  }
});
