// Browser end-to-end test of the web console (issue #14): starts `reelfarm
// serve` and two `reelfarm node` processes on free ports, then drives
// Debian's headless Chromium with playwright-core through what a creator
// and an operator do: sign up, plan preview, render with live progress to
// 100%, play the film with its subtitles, credits, billing off (the
// explanation, the data-sharing opt-in), sign out; an admin drains a node.
// Then billing on (issue #20): a second farm paid through the local Stripe
// (tests/billing/local_stripe): a credit pack bought on Stripe's hosted
// Checkout page, the webhook, the balance risen. Screenshots go to --out.
//
//   node console.e2e.mjs --reelfarm build/apps/reelfarm/reelfarm --out DIR
//
// Exit status: 0 passed, 1 failed, 77 skipped (no Chromium).
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    reelfarm: { type: 'string' },
    out: { type: 'string', default: 'screenshots' },
    chromium: { type: 'string', default: process.env.REELFARM_CHROMIUM || '/usr/bin/chromium' },
    keep: { type: 'boolean', default: false },
  },
});

const SCRIPT = `Title: The Keeper
Author: Browser Test

INT. LIGHTHOUSE - NIGHT

The lamp turns. MARA climbs the last steps with a lantern.

MARA
Someone has to keep it lit.

EXT. CLIFF - DAWN

Waves break below. TOMAS waits by the rail.

TOMAS
You stayed all night again.
`;

const started = Date.now();
function log(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  log(`ok: ${message}`);
}

// The console tells what it does, never about the project's own development
// ("coming with other issues", "arrives with another issue").
async function checkNoDevelopmentTalk(p, where) {
  const text = await p.locator('body').innerText();
  const talk = text.match(/\bissues?\b|\bcoming\b|\barriv(?:es?|ing)\b|\bnot yet\b|\bTODO\b/i);
  check(talk === null, `the ${where} page says nothing about the project's development${talk ? ` ("${talk[0]}")` : ''}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** serve + `nodes` animatic nodes in a scratch folder; stop() ends them all. */
class Farm {
  constructor(binary, { env = {}, nodes = 2 } = {}) {
    this.binary = binary;
    this.env = env;
    this.nodes = nodes;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'reelfarm-web-e2e-'));
    // As root the embedded PostgreSQL runs as 'postgres', which must enter it.
    chmodSync(this.dir, 0o755);
    this.data = path.join(this.dir, 'data');
    this.children = [];
  }

  spawnLogged(argv, logFile) {
    const out = openSync(logFile, 'a');
    const child = spawn(this.binary, argv, { stdio: ['ignore', out, out], env: { ...process.env, ...this.env } });
    this.children.push(child);
    return child;
  }

  serveLog() {
    try {
      return readFileSync(path.join(this.dir, 'serve.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async start() {
    // Ports the OS picks (never probed), read back from serve's status lines.
    this.serve = this.spawnLogged([
      '--data-dir', this.data,
      '--set', 'gateway.port=0',
      '--set', 'farm.bind=tcp://127.0.0.1:*',
      '--set', 'gateway.rate_limit_per_user=100000',
      '--set', 'gateway.rate_limit_per_ip=100000',
      '--set', 'gateway.rate_limit_login_per_ip=100000',
      '--set', 'gateway.grafana_url=https://grafana.example.com/d/reelfarm',
      'serve',
    ], path.join(this.dir, 'serve.log'));
    const ready = /gateway +http:\/\/127\.0\.0\.1:([0-9]+)\/api\/v1/;
    const coordinator = /coordinator +(tcp:\/\/127\.0\.0\.1:[0-9]+)/;
    for (let i = 0; i < 1800; i++) {
      const text = this.serveLog();
      const m = text.match(ready);
      const c = text.match(coordinator);
      if (m && c && text.includes('msg="ready')) {
        this.base = `http://127.0.0.1:${m[1]}`;
        this.endpoint = c[1];
        break;
      }
      if (this.serve.exitCode !== null) throw new Error(`serve exited:\n${text}`);
      await sleep(100);
    }
    if (!this.base) throw new Error(`serve did not become ready:\n${this.serveLog()}`);
    if (this.nodes === 0) {
      log(`farm up at ${this.base} (no nodes, data ${this.dir})`);
      return;
    }
    // Nodes join as an operator's would: a token from `reelfarm ctl nodes token`.
    const token = execFileSync(this.binary, ['--data-dir', this.data, 'ctl', 'nodes', 'token',
      '--coordinator', this.endpoint], { encoding: 'utf8' }).trim();
    for (let i = 0; i < this.nodes; i++) {
      const nodeDir = path.join(this.dir, `node-${i}`);
      mkdirSync(nodeDir, { recursive: true });
      this.spawnLogged(['--log-level', 'warn', 'node', '--join', this.endpoint, '--token', token,
        '--backend', 'animatic', '--media-dir', path.join(this.data, 'media'), '--node-dir', nodeDir],
      path.join(nodeDir, 'node.log'));
    }
    log(`farm up at ${this.base} (coordinator ${this.endpoint}, data ${this.dir})`);
  }

  /** Makes the user with `email` an administrator (no API route does that). */
  makeAdmin(email) {
    const services = JSON.parse(readFileSync(path.join(this.data, 'run', 'services.json'), 'utf8'));
    execFileSync('psql', [services.postgres.dsn, '-v', 'ON_ERROR_STOP=1', '-qc',
      `UPDATE users SET role = 'admin' WHERE email = '${email.replace(/'/g, "''")}'`]);
  }

  async stop() {
    for (const child of this.children.slice(1)) child.kill('SIGTERM');
    if (this.serve) this.serve.kill('SIGTERM');
    const deadline = Date.now() + 60000;
    for (const child of this.children) {
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(100);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (!args.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

const STRIPE_KEY = 'sk_test_reelfarm_local';
const STRIPE_WEBHOOK_SECRET = 'whsec_reelfarm_local_test';

/** The local Stripe (tests/billing/local_stripe) on a port it picks. */
class LocalStripe {
  constructor(dir) {
    this.dir = dir;
  }

  async start() {
    const script = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'billing', 'local_stripe', 'local_stripe.py');
    const portFile = path.join(this.dir, 'stripe.port');
    const out = openSync(path.join(this.dir, 'stripe.log'), 'a');
    this.child = spawn('python3', [script, '--port', '0', '--port-file', portFile,
      '--secret-key', STRIPE_KEY, '--webhook-secret', STRIPE_WEBHOOK_SECRET], { stdio: ['ignore', out, out] });
    for (let i = 0; i < 300 && !existsSync(portFile); i++) {
      if (this.child.exitCode !== null) throw new Error('the local Stripe exited');
      await sleep(100);
    }
    if (!existsSync(portFile)) throw new Error('the local Stripe did not start');
    this.base = `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}`;
    log(`local Stripe at ${this.base}`);
  }

  async control(p, body) {
    const res = await fetch(this.base + p, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body || {}),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  stop() {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/**
 * A plain HTTP forwarder on a port the OS picks: the console's address is
 * needed (Checkout's return URL) before serve has picked the gateway's port.
 */
async function startForwarder() {
  const forwarder = { target: null };
  forwarder.server = http.createServer((req, res) => {
    const target = new URL(forwarder.target);
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url,
      headers: { ...req.headers, host: target.host } }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(upstream);
  });
  await new Promise((resolve) => forwarder.server.listen(0, '127.0.0.1', resolve));
  forwarder.base = `http://127.0.0.1:${forwarder.server.address().port}`;
  return forwarder;
}

async function api(base, method, p, body, token) {
  const res = await fetch(`${base}/api/v1${p}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/**
 * Billing on: a second farm (no nodes) paid through the local Stripe. A
 * creator buys a credit pack on Stripe's hosted Checkout page, comes back to
 * the console, and sees the credits once Stripe's webhook has reported the
 * payment.
 */
async function billingOn(browser, shot, consoleErrors) {
  const forwarder = await startForwarder();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'reelfarm-web-stripe-'));
  const stripe = new LocalStripe(scratch);
  let farm;
  let context;
  try {
    await stripe.start();
    farm = new Farm(path.resolve(args.reelfarm), {
      nodes: 0,
      env: {
        REELFARM_BILLING_STRIPE_SECRET_KEY: STRIPE_KEY,
        REELFARM_BILLING_STRIPE_WEBHOOK_SECRET: STRIPE_WEBHOOK_SECRET,
        REELFARM_BILLING_STRIPE_API_BASE: stripe.base,
        REELFARM_BILLING_RETURN_URL: `${forwarder.base}/#/billing`,
      },
    });
    await farm.start();
    forwarder.target = farm.base;
    const hook = await stripe.control('/_control/webhook', { url: `${farm.base}/api/v1/billing/webhook` });
    check(hook.status === 200, 'the local Stripe delivers webhooks to the gateway');

    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    const reg = await api(farm.base, 'POST', '/auth/register', { email: 'payer@example.com', password: 'a long enough password' });
    check(reg.status === 201, 'the paying creator registered');
    await page.goto(forwarder.base + '/#/signin');
    await page.getByLabel('Email').fill('payer@example.com');
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.getByRole('link', { name: 'Billing', exact: true }).click();
    await page.getByRole('heading', { name: 'Credit packs' }).waitFor();
    check(await page.getByTestId('billing-disabled').count() === 0, 'billing on: no "administrator" explanation');
    check(await page.getByRole('button', { name: /^Subscribe to / }).count() > 0, 'billing on: plans can be subscribed to');
    check(await page.getByRole('button', { name: 'Manage payment methods' }).count() === 1, 'billing on: the portal button');
    await page.getByTestId('no-invoices').waitFor();
    const before = Number((await page.getByTestId('billing-balance').textContent()).split(' ')[0]);
    await shot('12-billing-on', page);
    await checkNoDevelopmentTalk(page, 'billing (on)');

    await page.getByRole('button', { name: /^Buy 100 credits/ }).click();
    await page.waitForURL(/\/c\/pay\//);
    check(page.url().startsWith(stripe.base), `the browser is on Stripe's hosted Checkout (${page.url()})`);
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.waitForURL((u) => u.href.startsWith(forwarder.base));
    await page.getByTestId('checkout-notice').waitFor();
    check((await page.getByTestId('checkout-notice').textContent()).includes('once Stripe confirms the payment'),
      'back from Checkout: the page says the credits follow Stripe\'s confirmation');
    const delivered = await stripe.control('/_control/webhook/wait', { timeout_s: 20 });
    check(delivered.status === 200, `Stripe's webhooks were delivered (${(delivered.body && delivered.body.deliveries || []).length})`);
    await page.waitForFunction((want) => {
      const el = document.querySelector('[data-testid=billing-balance]');
      return el && el.textContent === `${want} credits`;
    }, before + 100, { timeout: 30000 });
    check(true, `the balance rose by the pack's 100 credits (${before} -> ${before + 100})`);
    check(await page.locator('#balance').textContent() === String(before + 100), 'the header shows the new balance');
    await shot('13-billing-paid', page);
  } catch (err) {
    console.error('--- serve.log of the billing farm (tail) ---\n' + (farm ? farm.serveLog().split('\n').slice(-40).join('\n') : ''));
    console.error('--- local Stripe log (tail) ---\n' + (() => {
      try { return readFileSync(path.join(scratch, 'stripe.log'), 'utf8').split('\n').slice(-20).join('\n'); } catch { return ''; }
    })());
    throw err;
  } finally {
    if (context) await context.close().catch(() => {});
    if (farm) await farm.stop();
    stripe.stop();
    forwarder.server.close();
    if (!args.keep) rmSync(scratch, { recursive: true, force: true });
  }
}

async function main() {
  if (!args.reelfarm || !existsSync(args.reelfarm)) {
    console.error('usage: node console.e2e.mjs --reelfarm PATH [--out DIR]');
    return 2;
  }
  if (!existsSync(args.chromium)) {
    console.log(`SKIP: no Chromium at ${args.chromium} (Debian package chromium; deploy/setup.sh deps)`);
    return 77;
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    console.log('SKIP: playwright-core is not installed (tests/web/install.sh)');
    return 77;
  }
  const out = path.resolve(args.out);
  mkdirSync(out, { recursive: true });
  const farm = new Farm(path.resolve(args.reelfarm));
  let browser;
  let page;
  try {
    await farm.start();
    browser = await chromium.launch({
      executablePath: args.chromium,
      headless: true,
      // As root (CI containers) Chromium's sandbox cannot start.
      args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    const consoleErrors = [];
    // A 401 while no one is signed in is expected; Chromium logs every failed
    // load, so only script errors and other messages count.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    const shot = async (name, p = page) => {
      await p.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
      log(`screenshot ${path.join(out, `${name}.png`)}`);
    };

    // --- sign up ---
    const response = await page.goto(farm.base + '/');
    const headers = response.headers();
    check(headers['content-security-policy'].includes("default-src 'self'"), 'the page has a strict CSP');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot('01-sign-in');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await page.getByLabel('Name (optional)').fill('Mara Browser');
    await page.getByLabel('Email').fill('mara@example.com');
    await page.getByLabel('Password (at least 8 characters)').fill('a long enough password');
    await shot('02-sign-up');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    check(await page.evaluate(() => !document.cookie.includes('reelfarm_')), 'session cookies are HttpOnly');
    check(await page.evaluate(() => localStorage.length === 0), 'nothing in localStorage');
    const cookies = await context.cookies();
    check(cookies.some((c) => c.name === 'reelfarm_access' && c.httpOnly && c.sameSite === 'Strict'),
      'the access cookie is HttpOnly and SameSite=Strict');
    await shot('03-projects-empty');

    // --- new project with the plan preview ---
    await page.getByRole('link', { name: 'New project' }).first().click();
    await page.getByRole('heading', { name: 'New project' }).waitFor();
    // Upload the screenplay as a file; the title comes from its name.
    await page.getByLabel('Upload a Fountain file').setInputFiles({
      name: 'keeper.fountain', mimeType: 'text/plain', buffer: Buffer.from(SCRIPT),
    });
    await page.waitForFunction(() => document.getElementById('script').value.includes('INT. LIGHTHOUSE'));
    check(await page.getByLabel('Title').inputValue() === 'keeper', 'the upload fills the screenplay and title');
    await page.getByLabel('Title').fill('The Keeper');
    await page.getByTestId('plan-shots').waitFor();
    const scenes = await page.getByTestId('plan-scenes').textContent();
    const shots = Number(await page.getByTestId('plan-shots').textContent());
    const cost = await page.getByTestId('plan-cost').textContent();
    check(scenes === '2', `the preview shows 2 scenes (${scenes})`);
    check(shots >= 4, `the preview shows the shots (${shots})`);
    check(cost === '3 credits', `the preview shows the cost (${cost})`);
    check(await page.getByText('MARA (').count() > 0, 'the preview names the characters');
    await shot('04-new-project-preview');

    // --- render, following the live progress ---
    await page.getByRole('button', { name: 'Create and render' }).click();
    await page.waitForURL(/#\/project\//);
    const projectId = decodeURIComponent(page.url().split('#/project/')[1]);
    await page.getByRole('heading', { name: 'The Keeper' }).waitFor();
    const seen = [];
    let midShot = false;
    const deadline = Date.now() + 240000;
    for (;;) {
      // One read of the whole panel: an update may land between two reads.
      const { percent, status, shotsText, step, eta } = await page.evaluate(() => {
        const text = (id) => document.querySelector(`[data-testid=${id}]`).textContent;
        return { percent: text('percent'), status: text('status'), shotsText: text('shots'), step: text('step'), eta: text('eta') };
      });
      if (seen.length === 0 || seen[seen.length - 1].percent !== percent || seen[seen.length - 1].status !== status) {
        seen.push({ percent, status, shots: shotsText });
        log(`progress ${percent} ${status} shots ${shotsText} step "${step}" eta ${eta}`);
      }
      if (!midShot && status === 'processing' && percent !== '0%') {
        midShot = true;
        await shot('05-project-rendering');
      }
      if (status === 'complete' || status === 'failed' || status === 'cancelled') break;
      if (Date.now() > deadline) throw new Error('the render did not finish in 240 s');
      await sleep(100);
    }
    const last = seen[seen.length - 1];
    check(last.status === 'complete', 'the render completed');
    check(last.percent === '100%', 'the progress reached 100%');
    check(/^(\d+)\/\1$/.test(last.shots), `every shot is done (${last.shots})`);
    check(seen.length >= 2, `progress was shown live (${seen.length} distinct states)`);
    check(await page.locator('#progress').evaluate((el) => el.value) === 100, 'the progress bar is full');

    // --- the film with its subtitles ---
    const video = page.getByTestId('film');
    await video.waitFor();
    await page.waitForFunction(() => document.querySelector('video').readyState >= 2, null, { timeout: 30000 });
    const played = await video.evaluate(async (v) => {
      v.muted = true;
      await v.play();
      const t0 = v.currentTime;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const track = v.textTracks[0];
      track.mode = 'showing';
      for (let i = 0; i < 50 && (!track.cues || track.cues.length === 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return { readyState: v.readyState, t0, t1: v.currentTime, duration: v.duration,
        kind: track.kind, cues: track.cues ? track.cues.length : 0,
        firstCue: track.cues && track.cues.length ? track.cues[0].text : '', poster: v.poster };
    });
    log(`video ${JSON.stringify(played)}`);
    check(played.readyState >= 2, `the film loaded (readyState ${played.readyState})`);
    check(played.t1 > played.t0, `the film plays (currentTime ${played.t0} -> ${played.t1})`);
    check(played.kind === 'subtitles' && played.cues > 0, `the subtitles track has cues (${played.cues})`);
    check(played.poster.includes('/media/thumbnail'), 'the thumbnail is the poster');
    await video.evaluate((v) => v.pause());
    const downloads = await page.locator('.downloads a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    check(downloads.length === 5, 'five download links');
    const film = await page.evaluate(async (href) => {
      const r = await fetch(href, { headers: { Range: 'bytes=0-99' } });
      return { status: r.status, length: (await r.arrayBuffer()).byteLength };
    }, downloads[0]);
    check(film.status === 206 && film.length === 100, 'the film download answers ranges with the cookie');
    await shot('06-project-film');
    await checkNoDevelopmentTalk(page, 'project');

    // --- regenerate: every shot is reused, nothing is charged again ---
    const balanceBefore = await page.locator('#balance').textContent();
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=status]').textContent !== 'complete',
      null, { timeout: 10000 }).catch(() => {});
    await page.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'complete'
      && document.querySelector('[data-testid=percent]').textContent === '100%', null, { timeout: 120000 });
    check(true, 'the regenerated film is complete');
    await page.getByTestId('film').waitFor();
    check(await page.locator('#balance').textContent() === balanceBefore, `regenerating charged nothing (${balanceBefore})`);

    // --- re-cast: a deliberate new seed, kept in the project's settings ---
    const seedOf = () => page.evaluate(async () => {
      const id = decodeURIComponent(location.hash.split('/')[2]);
      const r = await fetch(`/api/v1/projects/${encodeURIComponent(id)}`);
      return ((await r.json()).settings || {}).seed || '';
    });
    const seedBefore = await seedOf();
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Re-cast' }).click();
    await page.waitForFunction(async (before) => {
      const id = decodeURIComponent(location.hash.split('/')[2]);
      const r = await fetch(`/api/v1/projects/${encodeURIComponent(id)}`);
      const seed = ((await r.json()).settings || {}).seed || '';
      return seed !== before && /^cast-[0-9a-f]{24}$/.test(seed);
    }, seedBefore, { timeout: 10000 });
    check(true, `re-cast stored a new seed (was "${seedBefore}", now "${await seedOf()}")`);

    // --- projects list, credits ---
    await page.getByRole('link', { name: 'Projects', exact: true }).click();
    await page.getByRole('link', { name: 'The Keeper' }).waitFor();
    check((await page.locator('tbody tr').first().textContent()).includes('complete'), 'the list shows the status');
    await shot('07-projects');
    await page.getByRole('link', { name: /Credits/ }).click();
    await page.getByTestId('balance').waitFor();
    await page.getByText(/render of/).first().waitFor();
    await shot('08-credits');

    // --- plans are not claimed: an administrator changes one, then render another film and cancel it ---
    check(await page.getByRole('button', { name: /^Switch to/ }).count() === 0, 'the credits page offers no free plan switch');
    await page.getByTestId('plans-note').waitFor();
    const claimed = await page.evaluate(async () => (await fetch('/api/v1/subscriptions/upgrade', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'reelfarm-console' },
      body: JSON.stringify({ plan: 'enterprise' }),
    })).status);
    check(claimed === 503, `a plan cannot be claimed through the API (${claimed})`);
    const me = await page.evaluate(async () => (await fetch('/api/v1/users/me')).json());
    const billing = await api(farm.base, 'POST', '/auth/register', { email: 'billing@example.com', password: 'a long enough password' });
    check(billing.status === 201, 'the billing administrator registered');
    farm.makeAdmin('billing@example.com');
    const admin = await api(farm.base, 'POST', '/auth/login', { email: 'billing@example.com', password: 'a long enough password' });
    const changed = await api(farm.base, 'POST', `/admin/users/${me.id}/plan`,
      { plan: 'standard', reason: 'browser test: a paid plan' }, admin.body.access_token);
    check(changed.status === 200 && changed.body.to === 'standard', `an administrator moved the user to Standard (${changed.status})`);
    await page.reload();
    await page.waitForFunction(() => {
      const current = document.querySelector('.plan.current h3');
      const balance = document.querySelector('[data-testid=balance]');
      return current && current.textContent === 'Standard' && balance && /^[1-9]/.test(balance.textContent);
    });
    check(true, `now on Standard: ${await page.getByTestId('balance').textContent()}`);
    await page.getByRole('link', { name: 'New project' }).first().click();
    await page.getByLabel('Title').fill('Cancelled');
    await page.getByLabel('Screenplay (Fountain)').fill(SCRIPT.replace('The Keeper', 'Cancelled').replace(/MARA/g, 'ANNA'));
    await page.getByTestId('plan-shots').waitFor();
    await page.getByRole('button', { name: 'Create and render' }).click();
    await page.getByRole('heading', { name: 'Cancelled' }).waitFor();
    await page.getByRole('button', { name: 'Cancel render' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'cancelled',
      null, { timeout: 30000 });
    check(await page.getByRole('button', { name: 'Cancel render' }).isHidden(), 'the render was cancelled');
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Delete project' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.getByRole('link', { name: 'The Keeper' }).waitFor();
    check(await page.getByRole('link', { name: 'Cancelled' }).count() === 0, 'the cancelled project was deleted');

    // --- billing off (no Stripe keys): an explanation, no purchase buttons; the data-sharing opt-in ---
    await page.getByRole('link', { name: 'Billing', exact: true }).click();
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await page.getByTestId('billing-disabled').waitFor();
    check((await page.getByTestId('billing-disabled').innerText()).includes('managed by an administrator on this farm'),
      'billing off: the page explains that an administrator manages plans and credits');
    const purchase = await page.getByRole('button', { name: /Subscribe|^Buy|Manage payment methods|Cancel plan/ }).count();
    check(purchase === 0, `billing off: no purchase buttons (${purchase})`);
    check(await page.locator('[data-nav=billing]').getAttribute('aria-current') === 'page', 'the navigation marks Billing');
    const optIn = page.getByLabel('Share my outputs for a membership discount');
    check(!(await optIn.isChecked()), 'not opted in to data sharing at first');
    check(await page.getByTestId('data-sharing-state').textContent() === 'You have not opted in.', 'the page says so');
    check((await page.locator('#data-sharing-help').innerText()).includes('10% membership discount'),
      'the opt-in explains the sharing and the 10% discount');
    await shot('08b-billing-off');
    await checkNoDevelopmentTalk(page, 'billing');
    await optIn.check();
    await page.waitForFunction(() => /^You opted in on ./.test(document.querySelector('[data-testid=data-sharing-state]').textContent));
    const optedIn = await page.evaluate(async () => (await fetch('/api/v1/users/me')).json());
    check(optedIn.data_sharing_opt_in === true && typeof optedIn.data_sharing_opt_in_at === 'string',
      `the opt-in was saved (PUT /users/me) at ${optedIn.data_sharing_opt_in_at}`);
    check(await page.getByTestId('data-sharing-state').textContent()
      === `You opted in on ${await page.evaluate((t) => new Date(t).toLocaleString(), optedIn.data_sharing_opt_in_at)}.`,
    'the page shows when the opt-in was given');
    await page.reload();
    await page.getByTestId('billing-disabled').waitFor();
    await page.waitForFunction(() => document.getElementById('data-sharing').checked);
    check(true, 'the opt-in is still on after a reload');
    await shot('08c-billing-opted-in');
    await optIn.uncheck();
    await page.waitForFunction(() => document.querySelector('[data-testid=data-sharing-state]').textContent === 'You have not opted in.');
    const optedOut = await page.evaluate(async () => (await fetch('/api/v1/users/me')).json());
    check(optedOut.data_sharing_opt_in === false && optedOut.data_sharing_opt_in_at === null, 'opting out clears the opt-in and its time');
    // Stripe's return (?checkout=success on the return URL): a notice, then the plain route.
    await page.goto(farm.base + '/#/billing?checkout=success&session=cs_test_return');
    await page.getByTestId('checkout-notice').waitFor();
    check((await page.getByTestId('checkout-notice').textContent()).includes('once Stripe confirms the payment'),
      'after Checkout the page says the purchase appears once Stripe confirms it');
    check(page.url().endsWith('#/billing'), `the return parameters are dropped from the address (${page.url()})`);
    await page.getByTestId('billing-disabled').waitFor();

    // --- the phone layout ---
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const phonePage = await phone.newPage();
    await phonePage.goto(farm.base + '/#/signin');
    await phonePage.getByRole('heading', { name: 'Sign in' }).waitFor();
    await phonePage.getByLabel('Email').fill('mara@example.com');
    await phonePage.getByLabel('Password').fill('a long enough password');
    await phonePage.getByRole('button', { name: 'Sign in' }).click();
    await phonePage.getByRole('link', { name: 'The Keeper' }).click();
    await phonePage.getByTestId('film').waitFor();
    const overflow = await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `no sideways scrolling on a phone (${overflow}px)`);
    await shot('09-phone-project', phonePage);
    await phone.close();

    // --- sign out ---
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const after = await page.evaluate(async () => (await fetch('/api/v1/users/me')).status);
    check(after === 401, 'signed out: the session is gone');
    check((await context.cookies()).every((c) => !c.name.startsWith('reelfarm_') || c.value === ''), 'the cookies are cleared');

    // --- an operator drains a node ---
    const reg = await api(farm.base, 'POST', '/auth/register', { email: 'ops@example.com', password: 'a long enough password' });
    check(reg.status === 201, 'the operator registered');
    farm.makeAdmin('ops@example.com');
    await page.getByLabel('Email').fill('ops@example.com');
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByLabel('Password').press('Enter');  // the keyboard submits the form
    await page.getByRole('link', { name: 'Operators' }).click();
    await page.getByRole('heading', { name: 'Render nodes' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=nodes] tbody tr[data-state]').length === 2, null, { timeout: 30000 });
    await page.getByRole('link', { name: 'Open the Grafana dashboards' }).waitFor();
    check(await page.getByRole('link', { name: 'Open the Grafana dashboards' }).getAttribute('href')
      === 'https://grafana.example.com/d/reelfarm', 'the operators page links to Grafana');
    await shot('10-operators');
    await checkNoDevelopmentTalk(page, 'operators');
    const firstRow = page.locator('[data-testid=nodes] tbody tr[data-state]').first();
    const nodeId = await firstRow.locator('button').getAttribute('data-node');
    await firstRow.getByRole('button', { name: /^Drain/ }).click();
    const drained = page.locator(`[data-testid=nodes] tbody tr:has(button[data-node="${nodeId}"])`);
    await drained.getByRole('button', { name: /^Undrain/ }).waitFor({ timeout: 15000 });
    const state = await drained.getAttribute('data-state');
    check(state === 'draining' || state === 'drained', `the node ${nodeId} is ${state}`);
    await shot('11-operators-drained');
    await billingOn(browser, shot, consoleErrors);
    check(consoleErrors.length === 0, `no errors in the browser console${consoleErrors.length ? ': ' + consoleErrors.join(' | ') : ''}`);
    log(`passed; screenshots in ${out}`);
    return 0;
  } catch (err) {
    console.error(`FAILED: ${err.stack || err}`);
    if (page) await page.screenshot({ path: path.join(out, 'failure.png'), fullPage: true }).catch(() => {});
    console.error('--- serve.log (tail) ---\n' + farm.serveLog().split('\n').slice(-40).join('\n'));
    return 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await farm.stop();
  }
}

process.exitCode = await main();
