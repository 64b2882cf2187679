// The public API as the page uses it, and nothing else: REST for unary calls
// (POST /rest/<package>.<Service>/<Method>), the WebSocket streams (/ws/…, the T-Invest
// WebSocket protocol: subprotocol "json" and the token as the second subprotocol), GET /metrics
// and the operator's POST /admin/<Method>.

export const CONTRACT = 'tinkoff.public.invest.api.contract.v1';
export const REPLAY = 'tinvestd.replay.v1';
// The longest wait between two attempts to open a stream.
const STREAM_RETRY_MAX_MS = 2000;
const STREAM_EVENTS_KEPT = 40;

export class ApiError extends Error {
  constructor(httpStatus, body, trackingId) {
    super(body?.message || `HTTP ${httpStatus}`);
    this.httpStatus = httpStatus;
    this.grpcStatus = body?.code ?? null;
    // The T-Invest code (the gRPC status details), e.g. "30042".
    this.code = body?.description || '';
    this.trackingId = trackingId || '';
  }
}

// A fetch that never reached the server (it is down or restarting).
export class OfflineError extends Error {}

async function post(path, body, token) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body ?? {}),
      cache: 'no-store',
    });
  } catch (error) {
    throw new OfflineError(String(error?.message ?? error));
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, json, res.headers.get('x-tracking-id'));
  return json;
}

export function rest(service, method, body, token, pkg = CONTRACT) {
  return post(`/rest/${pkg}.${service}/${method}`, body, token);
}

export function admin(method, body, token) {
  return post(`/admin/${method}`, body, token);
}

export async function metricsText() {
  let res;
  try {
    res = await fetch('/metrics', { cache: 'no-store' });
  } catch (error) {
    throw new OfflineError(String(error?.message ?? error));
  }
  if (!res.ok) throw new ApiError(res.status, null, res.headers.get('x-tracking-id'));
  return res.text();
}

export function streamUrl(service, method) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws/${CONTRACT}.${service}/${method}`;
}

// One WebSocket stream that reconnects by itself. `requests()` gives the messages to send on
// every (re)connection; `onMessage(json)` gets each server message; `onState(state, detail)` is
// told 'open', 'closed' (will retry), 'error' (closed by the server with 4000 + gRPC status) or
// 'unavailable' (never opened: the server serves no WebSocket streams).
export class Stream {
  constructor({ service, method, token, requests, onMessage, onState }) {
    this.url = streamUrl(service, method);
    this.token = token;
    this.requests = requests;
    this.onMessage = onMessage;
    this.onState = onState ?? (() => {});
    this.stopped = false;
    this.everOpened = false;
    this.failures = 0;
    this.socket = null;
    this.timer = null;
    this.events = []; // the last STREAM_EVENTS_KEPT opens, closes and message kinds, for diagnosis
    this.connect();
  }

  note(text) {
    this.events.push(`${new Date().toISOString().slice(11, 23)} ${text}`);
    if (this.events.length > STREAM_EVENTS_KEPT) this.events.shift();
  }

  connect() {
    if (this.stopped) return;
    this.note('connect');
    let socket;
    try {
      socket = new WebSocket(this.url, ['json', this.token]);
    } catch (error) {
      this.onState('unavailable', String(error));
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.note('open');
      this.everOpened = true;
      this.failures = 0;
      this.onState('open');
      for (const request of this.requests()) socket.send(JSON.stringify(request));
    };
    socket.onmessage = (event) => {
      let json;
      try {
        json = JSON.parse(event.data);
      } catch {
        return;
      }
      const kind = Object.keys(json)[0];
      if (kind !== this.lastKind) this.note(kind);
      this.lastKind = kind;
      this.onMessage(json);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.socket = null;
      this.note(`close ${event.code}`);
      this.lastKind = null;
      if (this.stopped) return;
      if (event.code >= 4000 && event.code < 4100) {
        this.onState('error', { grpcStatus: event.code - 4000, reason: event.reason });
      } else if (!opened) {
        this.failures++;
        this.onState(this.everOpened ? 'closed' : 'unavailable', event.code);
      } else {
        this.onState('closed', event.code);
      }
      const delay = Math.min(STREAM_RETRY_MAX_MS, 250 * 2 ** Math.min(this.failures, 5));
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  // The server answers again (a REST call went through): a stream waiting to retry retries now.
  kick() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.timer);
    this.connect();
  }

  // True when the message was handed to the open socket.
  send(message) {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }
}
