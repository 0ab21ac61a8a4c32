// The login form: POST /api/auth/login { name, password }; the session cookie is HttpOnly and
// set by the server. On success, back to the page the user came from.
const form = document.getElementById('login');
const error = document.getElementById('error');

function next() {
  const wanted = new URLSearchParams(location.search).get('next') ?? '';
  // Only a hash route of this page: never an address elsewhere.
  return /^#\/[a-z]+(\/[\w.-]+)?$/.test(wanted) ? `/${wanted}` : '/';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const name = form.elements.name.value.trim();
  const password = form.elements.password.value;
  if (!name || !password) {
    error.textContent = 'Enter your name and password.';
    return;
  }
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const response = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ name, password }),
    });
    if (response.ok) {
      location.assign(next());
      return;
    }
    const body = await response.json().catch(() => null);
    error.textContent = response.status === 401 || response.status === 403 ? 'Name or password is wrong.' : (body?.error?.message ?? `Login failed (${response.status}).`);
  } catch {
    error.textContent = 'The store agent cannot be reached.';
  } finally {
    button.disabled = false;
  }
});
