// The kiosk's REST calls: the signed-in token in memory only, the server's own error
// message when something is refused, and one plain sentence when the box is silent.
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;   // the request field a 422 is about, when the server names one
  }
}

export class Api {
  constructor(onUnreachable, onUnauthorised) {
    this.token = null;
    this.onUnreachable = onUnreachable;
    this.onUnauthorised = onUnauthorised;
  }

  async call(method, path, body, token = this.token) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body),
                                signal: AbortSignal.timeout(15000) });
    } catch {
      this.onUnreachable?.(true);
      throw new ApiError(0, 'unreachable', 'The appliance is not answering. It restarts by itself; if this stays, call clinic IT.');
    }
    this.onUnreachable?.(false);
    const text = await res.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
    if (!res.ok) {
      const e = parsed?.error || {};
      if (res.status === 401 && token && e.code !== 'wrong_pin') this.onUnauthorised?.();
      throw new ApiError(res.status, e.code || 'http_' + res.status, e.message || `The appliance refused this (${res.status}).`, e.field);
    }
    return parsed;
  }

  get(path, token) { return this.call('GET', path, undefined, token); }
  post(path, body, token) { return this.call('POST', path, body, token); }
  put(path, body, token) { return this.call('PUT', path, body, token); }
  del(path, token) { return this.call('DELETE', path, undefined, token); }
}
