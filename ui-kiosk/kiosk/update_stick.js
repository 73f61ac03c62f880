// Settings' "Update from a USB stick" (admin): clinic IT puts a stick with an update bundle
// into the box, looks for it here, and installs one of the bundles found. The appliance's
// root side (consult-update-stick.service) mounts the stick read-only, checks each bundle's
// signature and hardware family, installs into the other system slot and restarts once
// nobody is in a consultation; this screen asks through /api/system/update/stick and shows
// what it says while it works.
import { busy } from '/kiosk/busy.js';

const $ = (id) => document.getElementById(id);
const STICK = '/api/system/update/stick';
const POLL_MS = 1500;
// A request nobody picked up: a box without the appliance's system (a development machine).
const UNANSWERED_SECONDS = 90;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function megabytes(bytes) {
  return `${Math.max(1, Math.round(bytes / 1048576)).toLocaleString()} MB`;
}

export class UpdateStick {
  constructor(app, token) {
    this.app = app;
    this.token = token;
    this.run = 0;   // the request being followed; a newer one (or leaving Settings) stops the old poll
    $('stick-look').addEventListener('click', () => this.ask({ action: 'look' }, $('stick-look')));
  }

  // Opening Settings: a request still running (an install, after the page reloaded) is followed again.
  async load() {
    this.problem('');
    try {
      const s = await this.app.api.get(STICK, this.token());
      if (s.request && (!s.result || s.result.state === 'working') && s.waiting_seconds < UNANSWERED_SECONDS) this.follow(s.request.id);
      else if (s.result?.state === 'installed') this.show(s.result);
    } catch (e) {
      this.problem(e.message || 'The USB-stick update could not be read.');
    }
  }

  clear() {
    this.run += 1;
    $('stick-bundles').replaceChildren();
    $('stick-state').textContent = '';
    this.problem('');
  }

  async ask(body, button) {
    this.problem('');
    if (body.action === 'look') $('stick-bundles').replaceChildren();
    try {
      const r = await busy(button, () => this.app.api.post(STICK, body, this.token()));
      await this.follow(r.request.id);
    } catch (e) {
      this.problem(e.message || 'The request could not be made.');
    }
  }

  async install(b) {
    const what = b.version ? `version ${b.version}` : b.name;
    if (!(await this.app.confirm(`Install ${what} from the USB stick? When it is installed the box restarts into it, `
      + 'which takes a few minutes; a consultation running then is not interrupted: the restart waits for it.', 'Install'))) return;
    $('stick-bundles').replaceChildren();
    await this.ask({ action: 'install', file: b.name }, $('stick-look'));
  }

  // Polls until root answers request `id` for good, showing what it does meanwhile.
  async follow(id) {
    const run = ++this.run;
    $('stick-look').disabled = true;
    try {
      for (;;) {
        const s = await this.app.api.get(STICK, this.token());
        if (run !== this.run) return;
        if (s.request?.id !== id) {
          this.problem('Another request for a USB stick replaced this one.');
          return;
        }
        if (s.result) this.show(s.result);
        else $('stick-state').textContent = 'Asking the box to look for the USB stick…';
        if (s.result && s.result.state !== 'working') return;
        if (!s.result && s.waiting_seconds >= UNANSWERED_SECONDS) {
          this.problem('Nothing on this box answered the request: updates from a USB stick work on the appliance\'s own '
            + 'system only. Ask clinic IT.');
          return;
        }
        await sleep(POLL_MS);
      }
    } catch (e) {
      if (run === this.run) this.problem(e.message || 'The USB-stick update could not be read.');
    } finally {
      if (run === this.run) $('stick-look').disabled = false;
    }
  }

  show(result) {
    $('stick-state').textContent = result.message;
    if (result.state !== 'found') return;
    $('stick-bundles').replaceChildren(...result.bundles.map((b) => {
      const li = document.createElement('li');
      const text = document.createElement('span');
      text.textContent = `${b.version ? `Version ${b.version}` : 'Unknown version'} (${b.name}, ${megabytes(b.size_bytes)})`
        + (b.problem ? `: cannot be installed, ${b.problem}.` : '');
      li.append(text);
      if (!b.problem) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'primary';
        button.textContent = `Install ${b.version}`;
        button.addEventListener('click', () => this.install(b));
        li.append(button);
      }
      return li;
    }));
  }

  problem(text) {
    $('stick-error').textContent = text;
    $('stick-error').hidden = !text;
  }
}
