// Admit → first frame decoded in the patient's browser, over CALLS calls (default 12),
// and consultd's CPU and RSS during a call, for each browser in BROWSERS (default
// "chromium,firefox": Chromium takes H.264, Firefox ESR without OpenH264 takes the VP8
// fallback). Prints; asserts nothing.
//   tests/media/run_in_netns.sh node --experimental-websocket tests/bench/patient_join_bench.mjs [build-dir]
// Media size follows WIDTH/HEIGHT (default 1280x720, the appliance's default).
import { readFileSync } from 'node:fs';
import { Appliance, launchBrowser, until, sleep } from '../browser/lib/appliance.mjs';
import { launchFirefox } from '../browser/lib/firefox.mjs';

const buildDir = process.argv[2] || 'build';
const calls = Number(process.env.CALLS || 12);
const browsers = (process.env.BROWSERS || 'chromium,firefox').split(',');
const width = process.env.WIDTH || '1280', height = process.env.HEIGHT || '720';

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;   // utime + stime, in clock ticks of 1/100 s
}
function rssMiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : 0;
}
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)]; };

async function run(kind) {
const app = new Appliance(buildDir, ['--set', `media.max_width=${width}`, '--set', `media.max_height=${height}`]);
await app.start();
const browser = kind === 'firefox' ? await launchFirefox() : await launchBrowser();
const pid = app.proc.pid;
const idleRss = rssMiB(pid);
const joins = [];
const phases = [];   // ms after admit: offer answered / ICE+DTLS connected / first frame
let during = null;
try {
  for (let i = 0; i < calls; ++i) {
    const s = await app.session();
    const context = kind === 'firefox' ? null : await browser.newContext({ permissions: ['camera', 'microphone'] });
    const page = context ? await context.newPage() : await browser.newPage();
    await page.goto(`${app.base}/v/${s.room}#t=${s.token}`);
    await until('pre-call', () => page.evaluate(() => document.body.dataset.state === 'precall'));
    await page.click('#continue');
    await until('waiting', async () => (await app.status(s.id)) === 'waiting');
    // The page notes the wall-clock time of its first decoded frame.
    await page.evaluate(() => {
      window.__firstFrame = 0;
      window.__marks = {};
      const poll = async () => {
        const pc = window.consultPatient.peer?.pc;
        if (pc && !window.__marks.offer) window.__marks.offer = Date.now();
        if (pc && pc.connectionState === 'connected' && !window.__marks.connected) window.__marks.connected = Date.now();
        if (pc) {
          let frames = 0;
          (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames = r.framesDecoded || 0; });
          if (frames > 0) { window.__firstFrame = Date.now(); return; }
        }
        setTimeout(poll, 5);
      };
      poll();
    });
    const admitted = Date.now();
    await app.admit(s.id);
    const first = await until('first frame', () => page.evaluate(() => window.__firstFrame), 20000, 10);
    joins.push(first - admitted);
    const marks = await page.evaluate(() => window.__marks);
    phases.push(`${marks.offer - admitted}/${marks.connected - admitted}/${first - admitted}`);
    if (i === 0) {
      // A steady call: consultd's share of the CPU over ten seconds, and its memory.
      await sleep(3000);
      const c0 = cpuSeconds(pid), t0 = Date.now();
      await sleep(10000);
      during = { cores: (cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000), rss: rssMiB(pid) };
    }
    await app.must('POST', `/api/video-consultations/sessions/${s.id}/end`, app.doctor, undefined, 200);
    await (context ? context.close() : page.close());
  }
} finally {
  await browser.close();
  await app.stop();
}
console.log(`${kind}: admit → first decoded frame in the patient's browser, ${joins.length} calls at ${width}x${height}:`);
console.log(`  p50 ${pct(joins, 50)} ms, p95 ${pct(joins, 95)} ms, max ${Math.max(...joins)} ms  (each: ${joins.join(', ')})`);
console.log(`  phases (offer / connected / first frame, ms after admit): ${phases.join('  ')}`);
console.log(`${kind}: consultd during one call: ${during.cores.toFixed(2)} cores, RSS ${during.rss.toFixed(0)} MiB (idle before calls: ${idleRss.toFixed(0)} MiB)`);
}

for (const kind of browsers) await run(kind);
