// The signalling socket (docs/signalling.md): hello with the token first, JSON
// messages after, and a reconnect with backoff when the network drops (0.5 s, doubling,
// at most 10 s between tries). Close codes that mean "stop" (ended, replaced, refused,
// a message or an answer the appliance cannot use, a browser that takes no media) are
// not retried: the same page would only meet the same refusal again.
const FINAL_CODES = new Set([1000, 4400, 4401, 4403, 4404, 4409, 4410, 4415]);

export class Signalling extends EventTarget {
  constructor(token, extra = {}) {
    super();
    this.token = token;
    this.extra = extra;
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/ws`);
    this.socket = ws;
    ws.addEventListener('open', () => {
      this.attempt = 0;
      ws.send(JSON.stringify({ type: 'hello', token: this.token, ...this.extra }));
      this.dispatchEvent(new CustomEvent('open'));
    });
    ws.addEventListener('message', (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch { return; }
      if (m && typeof m.type === 'string') this.dispatchEvent(new CustomEvent(m.type, { detail: m }));
    });
    ws.addEventListener('close', (e) => {
      if (this.socket !== ws) return;
      this.socket = null;
      const final = this.stopped || FINAL_CODES.has(e.code);
      this.dispatchEvent(new CustomEvent('closed', { detail: { code: e.code, reason: e.reason, final } }));
      if (final) return;
      const delay = Math.min(10000, 500 * 2 ** this.attempt++);
      setTimeout(() => { if (!this.stopped) this.connect(); }, delay);
    });
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  close() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000);
  }

  on(type, handler) { this.addEventListener(type, (e) => handler(e.detail)); }
}
