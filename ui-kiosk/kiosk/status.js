// The header's state: whether the appliance answers and live updates are connected, the
// cloud sync, the camera and encoder (from /healthz), and the facts on the sign-in screen.
import { cameraText, facts } from '/kiosk/settings.js';

const $ = (id) => document.getElementById(id);

export function statusChips(app) {
  const net = $('net-chip');
  const down = app.unreachable || (app.token && app.lobby && !app.lobbyConnected);
  net.dataset.level = down ? 'bad' : 'ok';
  net.textContent = app.unreachable ? 'Appliance not answering' : down ? 'Reconnecting…' : 'Connected';
  const p = $('problem');
  if (down && p.dataset.kind !== 'toast') {
    p.textContent = app.unreachable
      ? 'The appliance is not answering. It restarts by itself; if this stays more than a minute, call clinic IT.'
      : 'Live updates are reconnecting. The list may be out of date for a moment.';
    p.dataset.kind = 'network';
    p.dataset.level = 'problem';
    p.hidden = false;
  } else if (!down && p.dataset.kind === 'network') {
    p.hidden = true;
  }
  const c = app.cloud;
  const cloud = $('cloud-chip');
  cloud.hidden = !c || !c.enabled || (c.state !== 'repair_needed' && c.state !== 'retrying');
  if (c?.state === 'repair_needed') {
    cloud.dataset.level = 'bad';
    cloud.textContent = 'Cloud: re-pairing needed';
  } else if (c) {
    cloud.dataset.level = 'warn';
    cloud.textContent = 'Cloud offline: working from the local copy';
  }
  // A provisioning file that was refused: clinic IT must see why on the box itself.
  const prov = c?.provisioning;
  if (prov?.ok === false && (p.hidden || p.dataset.kind === 'provision')) {
    p.textContent = `For clinic IT: the provisioning file was refused (${prov.message}). Nothing of it was applied, `
      + 'and it was erased from the boot partition: correct it, put it back there and restart the box.';
    p.dataset.kind = 'provision';
    p.dataset.level = 'problem';
    p.hidden = false;
  } else if (p.dataset.kind === 'provision' && prov?.ok !== false) {
    p.hidden = true;
  }
  const h = app.health;
  const cam = $('camera-chip');
  const testImage = h && typeof h.camera === 'object' && h.camera?.test_source;
  cam.hidden = !h || (!testImage && h.encoder);
  cam.dataset.level = h && !h.encoder ? 'bad' : 'warn';
  cam.textContent = h && !h.encoder ? 'No video encoder: calls cannot start' : 'No camera: test image in use';
}

export async function pollHealth(app) {
  try {
    const res = await fetch('/healthz', { cache: 'no-store', signal: AbortSignal.timeout(8000) });
    app.health = await res.json();
    app.unreachable = false;
    facts($('facts'), [
      ['Status', app.health.status === 'ok' ? 'Ready' : 'Needs attention'],
      ['Camera', cameraText(app.health)],
      ['Video encoder', app.health.encoder ?? 'none works on this box'],
      ['Database', app.health.db],
      ['Software', app.health.version],
    ]);
  } catch {
    app.unreachable = true;
  }
  try {
    app.cloud = await (await fetch('/api/system/cloud', { cache: 'no-store', signal: AbortSignal.timeout(8000) })).json();
  } catch { /* shown by the health poll */ }
  statusChips(app);
}
