// Settings' Recovery key card (admin): the key first boot made for the encrypted data
// partition, shown on request in eight groups to copy onto paper; typing its last group
// back proves it was written down, and the box then removes its copy for good. The card
// stays hidden on a box without one (a development machine).
import { busy } from '/kiosk/busy.js';

const $ = (id) => document.getElementById(id);
const KEY = '/api/system/recovery-key';

export class RecoveryKey {
  constructor(app, token) {
    this.app = app;
    this.token = token;
    $('recovery-reveal').addEventListener('click', () => this.reveal());
    $('recovery-form').addEventListener('submit', (e) => { e.preventDefault(); this.confirm(); });
  }

  async load() {
    this.problem('');
    this.clear();
    try {
      this.fill(await this.app.api.get(`${KEY}/status`, this.token()));
    } catch (e) {
      $('recovery-card').hidden = false;
      this.problem(e.message || 'The recovery key\'s state could not be read.');
    }
  }

  fill(s) {
    $('recovery-card').hidden = s.state === 'none';
    $('recovery-reveal').hidden = s.state !== 'pending';
    $('recovery-state').textContent = s.state === 'pending'
      ? 'Write this box\'s recovery key on paper and keep it with the clinic\'s records. It is the only way to reach the '
        + 'patient data if the box\'s security chip or main board is replaced.'
      : `The recovery key was written down and removed from this box (${new Date(s.removed_at).toLocaleString()}).`;
  }

  async reveal() {
    this.problem('');
    try {
      const r = await busy($('recovery-reveal'), () => this.app.api.get(KEY, this.token()));
      const ol = $('recovery-groups');
      ol.replaceChildren(...r.groups.map((g) => {
        const li = document.createElement('li');
        li.textContent = g;
        return li;
      }));
      $('recovery-show').hidden = false;
      $('recovery-reveal').hidden = true;
      $('recovery-last').focus();
    } catch (e) {
      this.problem(e.message || 'The recovery key could not be read.');
    }
  }

  async confirm() {
    this.problem('');
    try {
      await busy($('recovery-confirm'), () => this.app.api.post(`${KEY}/confirm`, { last_group: $('recovery-last').value },
        this.token()));
      this.clear();
      await this.load();
    } catch (e) {
      this.problem(e.message || 'The recovery key could not be removed.');
    }
  }

  // Leaving Settings: the key goes off the screen.
  clear() {
    $('recovery-groups').replaceChildren();
    $('recovery-last').value = '';
    $('recovery-show').hidden = true;
  }

  problem(text) {
    $('recovery-error').textContent = text;
    $('recovery-error').hidden = !text;
  }
}
