// Sign up and sign in. The answers set HttpOnly session cookies; the page
// keeps no token anywhere.
import { api } from './api.js';
import { h, show, errorBox, setError } from './ui.js';
import { signedIn } from './app.js';

function field(id, label, attrs) {
  return h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    h('input', { id, name: id, ...attrs }));
}

function authForm({ title, intro, fields, submit, path, other }) {
  const error = errorBox();
  const button = h('button', { type: 'submit', class: 'primary', text: submit });
  const form = h('form', { class: 'card narrow', novalidate: false },
    fields, error, h('div', { class: 'actions' }, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setError(error, null);
    button.disabled = true;
    const data = Object.fromEntries(new FormData(form).entries());
    if (!data.full_name) delete data.full_name;
    try {
      const body = await api('POST', path, data);
      signedIn(body);
    } catch (err) {
      setError(error, err.status === 401 ? new Error('Wrong email or password.') : err);
      form.querySelector('input').focus();
    } finally {
      button.disabled = false;
    }
  });
  show(title, h('h1', { text: title }), h('p', { class: 'muted', text: intro }), form, other);
}

/** #/signin */
export function signInPage() {
  authForm({
    title: 'Sign in',
    intro: 'Turn screenplays into films on the farm.',
    path: '/auth/login',
    submit: 'Sign in',
    fields: [
      field('email', 'Email', { type: 'email', autocomplete: 'username', required: true }),
      field('password', 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
    ],
    other: h('p', {}, 'New here? ', h('a', { href: '#/signup', text: 'Create an account' })),
  });
}

/** #/signup */
export function signUpPage() {
  authForm({
    title: 'Create an account',
    intro: 'Free accounts start with credits for a few short films.',
    path: '/auth/register',
    submit: 'Sign up',
    fields: [
      field('full_name', 'Name (optional)', { type: 'text', autocomplete: 'name', maxlength: 200 }),
      field('email', 'Email', { type: 'email', autocomplete: 'username', required: true }),
      field('password', 'Password (at least 8 characters)', {
        type: 'password', autocomplete: 'new-password', required: true, minlength: 8,
      }),
    ],
    other: h('p', {}, 'Have an account? ', h('a', { href: '#/signin', text: 'Sign in' })),
  });
}
