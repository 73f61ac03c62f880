// The kiosk's start screen: what the appliance reports about itself.
const state = document.getElementById('state');
const facts = document.getElementById('facts');

function show(label, value) {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  facts.append(dt, dd);
}

async function refresh() {
  try {
    const res = await fetch('/healthz', { cache: 'no-store' });
    const h = await res.json();
    facts.replaceChildren();
    state.textContent = h.status === 'ok' ? 'Ready' : 'Needs attention';
    state.className = h.status === 'ok' ? '' : 'bad';
    const camera = typeof h.camera === 'object' ? h.camera : { name: h.camera };
    show('Camera', camera.test_source ? `${camera.name} (no camera found)` : camera.name);
    show('Video encoder', h.encoder ?? 'none works on this box');
    show('Database', h.db);
    show('Software', h.version);
  } catch {
    state.textContent = 'The appliance service is not answering. It restarts by itself; if this stays, call clinic IT.';
    state.className = 'bad';
  }
}

refresh();
setInterval(refresh, 5000);
