// The console's entry: the session, the navigation and a hash router
// (#/projects, #/project/<id>...), so the gateway serves one page only.
import { api, scheduleRefresh, stopRefresh, CONSOLE_HEADER } from './api.js';
import { h, show } from './ui.js';
import { signInPage, signUpPage } from './auth.js';
import { projectsPage, newProjectPage } from './projects.js';
import { projectPage } from './project.js';
import { creditsPage } from './credits.js';
import { billingPage } from './billing.js';
import { operatorsPage } from './operators.js';

/** The signed-in user (GET /users/me), or null. */
export const session = { user: null };

let leaving = () => {};

/** Pages call this to stop their timers and streams when the route changes. */
export function onLeave(fn) {
  leaving = fn;
}

/** Re-reads the user (balance in the header) after something changed it. */
export async function reloadUser() {
  try {
    session.user = await api('GET', '/users/me');
  } catch {
    session.user = null;
  }
  updateNav();
  return session.user;
}

/** Called after a successful sign-in or sign-up. */
export function signedIn(body) {
  session.user = body.user;
  scheduleRefresh(body.expires_in || 900);
  updateNav();
  location.hash = '#/projects';
}

function updateNav() {
  const user = session.user;
  document.getElementById('nav').hidden = !user;
  document.getElementById('nav-ops').hidden = !(user && user.role === 'admin');
  const balance = document.getElementById('balance');
  balance.textContent = user ? (user.credits_unlimited ? '∞' : String(user.credits_balance)) : '';
  balance.setAttribute('aria-label', user ? `balance ${balance.textContent} credits` : '');
  const current = routeName();
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function signOut() {
  stopRefresh();
  try {
    await fetch('/api/v1/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { ...CONSOLE_HEADER, 'Content-Type': 'application/json' },
      body: '{}',
    });
  } catch {
    // The cookies may outlive a failed call; the page forgets the user anyway.
  }
  session.user = null;
  updateNav();
  location.hash = '#/signin';
}

const publicRoutes = { signin: signInPage, signup: signUpPage };

/** The route's name: "billing" also for "#/billing?checkout=success&..." (Stripe's return). */
function routeName() {
  return (location.hash.split('/')[1] || '').split(/[?&]/)[0];
}

async function route() {
  leaving();
  leaving = () => {};
  const [, , id] = location.hash.split('/');
  const name = routeName();
  updateNav();
  if (publicRoutes[name]) {
    if (session.user) {
      location.hash = '#/projects';
      return;
    }
    return publicRoutes[name]();
  }
  if (!session.user) {
    location.hash = '#/signin';
    return;
  }
  switch (name) {
    case 'new': return newProjectPage();
    case 'project': return projectPage(decodeURIComponent(id || ''));
    case 'credits': return creditsPage();
    case 'billing': return billingPage();
    case 'operators': return operatorsPage();
    case 'projects': return projectsPage();
    default:
      location.hash = '#/projects';
  }
}

function notFound(err) {
  show('Error', h('h1', { text: 'Something went wrong' }), h('p', { class: 'error', role: 'alert', text: err.message }));
}

async function start() {
  document.getElementById('signout').addEventListener('click', signOut);
  // An existing session: the access cookie (or, once it lapsed, the refresh
  // cookie, which api() tries once) identifies the user without anything
  // stored in the page.
  await reloadUser();
  if (session.user) {
    // The access cookie's age is unknown here: renew soon, then regularly.
    scheduleRefresh(60);
  }
  window.addEventListener('hashchange', () => route().catch(notFound));
  await route().catch(notFound);
}

start();
