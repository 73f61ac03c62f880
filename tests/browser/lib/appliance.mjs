// A real consultd --demo for the browser tests: its own state dir and port, tokens
// from consultctl, sessions booked over the REST API, a doctor's signalling socket,
// and Debian's Chromium with a fake camera and microphone.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test as nodeTest } from 'node:test';
import { chromium } from 'playwright-core';

export const CLINIC = '5d0c1a1e-0000-4000-8000-000000000001';
export const DOCTOR_B = '5d0c1a1e-0000-4000-8000-00000000d0c2';
const SESSIONS = '/api/video-consultations/sessions';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every wait is stretched by this factor (CONSULT_TIMEOUT_SCALE, default 3): a wait only
// runs out when something is broken, and a loaded CI machine can be several times
// slower than a developer's.
const TIMEOUT_SCALE = Number(process.env.CONSULT_TIMEOUT_SCALE) || 3;

// Polls `check` until it returns something truthy; throws `what` after `ms` (scaled).
export async function until(what, check, ms = 15000, every = 100) {
  ms *= TIMEOUT_SCALE;
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

// The consultd processes this test file has running.
const running = new Set();

// node:test's test(), whose failure also prints the last log lines of every running
// consultd: on a CI machine they are the only record of what the appliance saw.
export function test(name, options, fn) {
  if (typeof options === 'function') [options, fn] = [{}, options];
  return nodeTest(name, options, async (t) => {
    try {
      return await fn(t);
    } catch (err) {
      for (const app of running)
        console.log(`--- "${name}" failed; consultd's last log lines (${app.dir}) ---\n${app.stderr.slice(-6000)}\n---`);
      throw err;
    }
  });
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export class Appliance {
  constructor(buildDir, extraArgs = []) {
    this.consultd = join(buildDir, 'appliance', 'consultd');
    this.consultctl = join(buildDir, 'appliance', 'consultctl');
    this.composer = join(buildDir, 'pipelines', 'consult-compose');
    this.extraArgs = extraArgs;
    this.dir = mkdtempSync(join(tmpdir(), 'consult-browser-'));
    this.stderr = '';
  }

  async start() {
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    mkdirSync(join(this.dir, 'state'), { recursive: true });
    writeFileSync(join(this.dir, 'empty.conf'), '');
    const args = ['--config', join(this.dir, 'empty.conf'), '--state-dir', join(this.dir, 'state'), '--http-port', String(this.port), '--demo',
                  '--set', 'http.rate_limit_per_minute=1000000', '--set', 'http.rate_limit_burst=100000', ...this.extraArgs];
    this.proc = spawn(this.consultd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(this);
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d.toString()).slice(-20000); });
    this.exited = new Promise((r) => this.proc.once('exit', (code, sig) => r({ code, sig })));
    try {
      await until('consultd to probe its hardware', async () => {
        const h = await this.get('/healthz');
        return h.status === 200 && typeof h.body.encoder === 'string' && h.body.encoder !== 'probing';
      }, 60000, 200);
      this.admin = this.token('admin', 'it-desk-admin');
      this.doctor = this.token('doctor', DOCTOR_B);
      await this.allDayTimings();
    } catch (err) {
      // A start that fails says why: consultd's own last words and how it ended.
      const ended = this.proc.exitCode !== null || this.proc.signalCode !== null
        ? `consultd ended (${this.proc.exitCode ?? this.proc.signalCode})` : 'consultd still running';
      err.message += `\n${ended}; its stderr:\n${this.stderr.slice(-4000)}`;
      throw err;
    }
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 8000);
      await this.exited;
      clearTimeout(t);
    }
    running.delete(this);
    // CONSULT_KEEP_STATE=1 keeps the store, recordings and logs for a look after a failure.
    if (process.env.CONSULT_KEEP_STATE) console.log(`consultd's state kept in ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }

  token(role, identity, session) {
    const args = ['--config', join(this.dir, 'empty.conf'), '--state-dir', join(this.dir, 'state'), 'token', '--role', role, '--identity', identity];
    if (session) args.push('--session', session);
    return execFileSync(this.consultctl, args, { encoding: 'utf8', timeout: 20000 }).trim();
  }

  async request(method, path, token, body) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                              signal: AbortSignal.timeout(10000) });
    const text = await r.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    return { status: r.status, body: parsed };
  }
  get(path, token) { return this.request('GET', path, token); }

  async must(method, path, token, body, status) {
    const r = await this.request(method, path, token, body);
    if (r.status !== status) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  // Doctor B gets all-day timings so a future slot is always free, whatever the clock says.
  // What each recorded part of a session holds: [{ file, tracks: { title: end_ms } }], by
  // the composer's own reading of the files.
  recordedParts(sessionId) {
    const files = execFileSync('sqlite3', [join(this.dir, 'state', 'consult.db'),
      `SELECT p.file FROM recording_parts p JOIN recordings r ON r.id = p.recording_id
       WHERE r.session_id = '${sessionId}' ORDER BY p.n`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    return files.map((file) => {
      const out = execFileSync(this.composer,
        ['--tracks', join(this.dir, 'state', 'recordings', file)], { encoding: 'utf8', timeout: 60000 });
      const tracks = {};
      for (const [, title, end] of out.matchAll(/^track (\S+) (\d+)$/gm)) tracks[title] = Number(end);
      return { file, tracks };
    });
  }

  async allDayTimings() {
    const list = await this.must('GET', `/api/video-consultations/timings?doctor_id=${DOCTOR_B}`, this.admin, undefined, 200);
    for (const t of list.timings) await this.must('DELETE', `/api/video-consultations/timings/${t.id}`, this.admin, undefined, 204);
    for (let day = 0; day <= 6; ++day)
      await this.must('POST', '/api/video-consultations/timings', this.admin,
        { doctor_id: DOCTOR_B, day_of_week: day, start_time: '00:00', end_time: '23:30', slot_duration_minutes: 30 }, 201);
    const patients = execFileSync('sqlite3', [join(this.dir, 'state', 'consult.db'),
      `SELECT id FROM patients WHERE clinic_id = '${CLINIC}' ORDER BY id`], { encoding: 'utf8' }).trim().split('\n');
    this.patients = patients;
    this.turn = 0;
  }

  // A video appointment in doctor B's next free future slot, and its session.
  async session() {
    const soon = Date.now() + 120000;
    for (let day = 0; day < 7; ++day) {
      const date = new Date(Date.now() + day * 86400000);
      const ymd = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
      const slots = await this.must('GET', `/api/video-consultations/availability?doctor_id=${DOCTOR_B}&date=${ymd}`, this.admin, undefined, 200);
      const slot = slots.slots.find((s) => Date.parse(s.starts_at) >= soon);
      if (!slot) continue;
      const patient = this.patients[this.turn++ % this.patients.length];
      const appt = await this.request('POST', '/api/appointments', this.admin,
        { doctor_id: DOCTOR_B, patient_id: patient, starts_at: slot.starts_at, duration_minutes: slot.duration_minutes, consultation_type: 'video' });
      if (appt.status === 409) continue;   // the patient already has that slot: try the next day
      if (appt.status !== 201) throw new Error('booking: ' + JSON.stringify(appt.body));
      // Its session was prepared as it was booked: Start opens it (200).
      const created = await this.must('POST', SESSIONS, this.doctor, { appointment_id: appt.body.id, duration_minutes: 30 }, 200);
      // dayOffset: the kiosk's day that lists it (late in the evening the next free slot is tomorrow's).
      return { id: created.session_id, room: created.room_name, invite: created.patient_invite_url, patient,
               appointment: appt.body.id, dayOffset: day,
               short: created.patient_short_url,
               token: created.patient_invite_url.split('#t=')[1] };
    }
    throw new Error('no free slot for doctor B this week');
  }

  admit(id) { return this.must('POST', `${SESSIONS}/${id}/admit`, this.doctor, undefined, 200); }
  status(id) { return this.get(`${SESSIONS}/${id}`, this.admin).then((r) => r.body.status); }
  participants(id) { return this.get(`${SESSIONS}/${id}`, this.admin).then((r) => r.body.participants); }

  // The doctor's screen on a session: a signalling socket that keeps every message.
  async doctorSocket(sessionId) {
    const ws = new WebSocket(`ws://127.0.0.1:${this.port}/ws`);
    const inbox = [];
    const d = { ws, inbox, closed: null };
    ws.addEventListener('message', (e) => inbox.push(JSON.parse(e.data)));
    ws.addEventListener('close', (e) => { d.closed = e.code; });
    await until('the doctor socket to open', () => ws.readyState === WebSocket.OPEN, 5000, 20);
    ws.send(JSON.stringify({ type: 'hello', token: this.doctor, session: sessionId }));
    d.send = (m) => ws.send(JSON.stringify(m));
    d.next = (what, pred, ms = 15000) => until(what, () => {
      const i = inbox.findIndex(pred);
      return i >= 0 ? inbox.splice(i, 1)[0] : null;
    }, ms, 20);
    d.latest = (pred) => [...inbox].reverse().find(pred);
    await d.next('welcome', (m) => m.type === 'welcome');
    return d;
  }
}

// Debian's Chromium, headless, with a fake camera and microphone; `extraArgs` add
// switches (the kiosk's --allow-loopback-in-peer-connection).
export async function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
           '--use-fake-ui-for-media-stream', '--disable-features=WebRtcHideLocalIpsWithMdns',
           '--autoplay-policy=no-user-gesture-required', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage', ...extraArgs],
  });
}

// What the page's RTCPeerConnection decodes: video frames and audio energy.
export async function inboundStats(page) {
  return page.evaluate(async () => {
    const pc = window.consultPatient?.peer?.pc;
    if (!pc) return null;
    const out = { framesDecoded: 0, audioEnergy: 0, audioLevel: 0, frameWidth: 0, connection: pc.connectionState };
    (await pc.getStats()).forEach((r) => {
      if (r.type !== 'inbound-rtp') return;
      if (r.kind === 'video') { out.framesDecoded = r.framesDecoded || 0; out.frameWidth = r.frameWidth || 0; }
      if (r.kind === 'audio') { out.audioEnergy = r.totalAudioEnergy || 0; out.audioLevel = r.audioLevel || 0; }
    });
    return out;
  });
}

// One consultd --demo and one Chromium for a test file: started before its tests, stopped
// after them. Read `app` and `browser` from the returned object inside the tests.
export function applianceForTests(buildDir, { args = [], browserArgs = [] } = {}) {
  const env = {};
  before(async () => {
    env.app = new Appliance(buildDir, args);
    await env.app.start();
    env.browser = await launchBrowser(browserArgs);
  });
  after(async () => {
    await env.browser?.close();
    await env.app?.stop();
  });
  return env;
}
