// The HTTP API as the console uses it: same-origin fetches that carry the
// session cookies and the console header (the gateway's CSRF rule), one
// silent refresh on an expired access token, and errors as ApiError.

/** The header every console request carries; cross-site pages cannot send it. */
export const CONSOLE_HEADER = { 'X-Requested-With': 'reelfarm-console' };

/** An API error: HTTP status, the API's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let refreshing = null;
let refreshTimer = 0;

/** Renews the session cookies before the access cookie lapses. */
export function scheduleRefresh(expiresInSeconds) {
  clearTimeout(refreshTimer);
  const ms = Math.max(10, expiresInSeconds * 0.8) * 1000;
  refreshTimer = setTimeout(() => { refresh(); }, ms);
}

/** Stops renewing (after sign-out). */
export function stopRefresh() {
  clearTimeout(refreshTimer);
}

/** Rotates the session cookies; resolves to true when the session lives on. */
export function refresh() {
  if (!refreshing) {
    refreshing = fetch('/api/v1/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { ...CONSOLE_HEADER, 'Content-Type': 'application/json' },
      body: '{}',
    })
      .then(async (res) => {
        if (!res.ok) return false;
        const body = await res.json();
        scheduleRefresh(body.expires_in || 900);
        return true;
      })
      .catch(() => false)
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function parse(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Calls `/api/v1${path}`; resolves to the parsed JSON body (null for 204).
 * An expired access cookie is refreshed once and the call repeated.
 */
export async function api(method, path, body, { retry = true } = {}) {
  const init = { method, credentials: 'same-origin', headers: { ...CONSOLE_HEADER } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check the connection and try again.');
  }
  if (res.status === 401 && retry && !path.startsWith('/auth/')) {
    if (await refresh()) return api(method, path, body, { retry: false });
  }
  const data = await parse(res);
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, err.code || 'http_' + res.status, err.message || res.statusText);
  }
  return data;
}

/** The deployment's settings for the page (Grafana link). */
export async function consoleConfig() {
  try {
    const res = await fetch('/console/config.json', { credentials: 'same-origin' });
    return res.ok ? await res.json() : {};
  } catch {
    return {};
  }
}

/** URL of one of a project's media files. */
export function mediaUrl(projectId, kind, version) {
  const url = `/api/v1/projects/${encodeURIComponent(projectId)}/media/${kind}`;
  return version ? `${url}?v=${encodeURIComponent(version)}` : url;
}
