// The page's only way to the agent: the public /api. Every mutating call carries the session's
// CSRF token; a 401 from any call sends the user to the login form.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token;
}

export function toLogin() {
  const next = location.pathname === '/login' ? '' : `?next=${encodeURIComponent(location.hash || '#/shoppers')}`;
  location.assign(`/login${next}`);
}

async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401 && !path.startsWith('/api/auth/')) {
    toLogin();
    throw new ApiError(401, 'EDGE_ERR_UNAUTHENTICATED', 'not logged in');
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = json?.error ?? {};
    throw new ApiError(response.status, error.code ?? `HTTP_${response.status}`, error.message ?? response.statusText);
  }
  return json;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body = {}) => call('POST', path, body),
};

/** The logged-in user: { user: { name, role }, csrfToken }. Sends the browser to /login on 401. */
export async function currentSession() {
  const response = await fetch('/api/auth/session', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (response.status === 401) {
    toLogin();
    return new Promise(() => {});
  }
  if (!response.ok) throw new ApiError(response.status, `HTTP_${response.status}`, 'session check failed');
  const session = await response.json();
  setCsrfToken(session.csrfToken);
  return session;
}

/** What a role may do (permissions.ts on the server decides; the page only hides what would be refused). */
export function permissions(user) {
  const manager = user.role === 'manager';
  return {
    resolveReview: manager,
    refund: manager,
    acknowledgeAlert: true,
    assignAlert: true,
    flashLabel: true,
  };
}
