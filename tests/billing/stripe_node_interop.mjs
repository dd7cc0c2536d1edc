// Stripe's own Node library (tests/web/node_modules/stripe) against the local
// Stripe (tests/billing/local_stripe): proves that the local server speaks the
// wire format Stripe's clients expect: form bodies, errors mapped to the
// library's error classes, idempotent retries, list shapes, and webhook
// signatures that stripe.webhooks.constructEvent accepts.
//
// It starts no Stripe: local_stripe_test.cpp starts one and runs this with
//   LOCAL_STRIPE_URL=http://127.0.0.1:PORT  LOCAL_STRIPE_KEY=sk_test_...
//   LOCAL_STRIPE_WEBHOOK_SECRET=whsec_...
// and the working directory where npm put node_modules/stripe (tests/web).
// Prints "ok <check>" per check and "interop passed" at the end; exits 1 on
// the first failure.
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const Stripe = require('stripe');

const base = process.env.LOCAL_STRIPE_URL;
const key = process.env.LOCAL_STRIPE_KEY;
const webhookSecret = process.env.LOCAL_STRIPE_WEBHOOK_SECRET;
if (!base || !key || !webhookSecret) {
  console.error('LOCAL_STRIPE_URL, LOCAL_STRIPE_KEY and LOCAL_STRIPE_WEBHOOK_SECRET are required');
  process.exit(2);
}
const { hostname, port } = new URL(base);
const options = { host: hostname, port: Number(port), protocol: 'http', maxNetworkRetries: 2 };
const stripe = new Stripe(key, options);

async function control(method, what, body) {
  const r = await fetch(base + what, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`control ${method} ${what}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

async function rejects(promise, check) {
  try {
    await promise;
  } catch (e) {
    check(e);
    return e;
  }
  assert.fail('the call succeeded; an error was expected');
}

function ok(what) {
  console.log('ok ' + what);
}

async function main() {
  // Customers.
  const customer = await stripe.customers.create({
    email: 'ada@example.com',
    name: 'Ada',
    metadata: { reelfarm_user: 'u-1' },
  });
  assert.match(customer.id, /^cus_/);
  assert.equal(customer.object, 'customer');
  assert.equal(customer.livemode, false);
  const again = await stripe.customers.retrieve(customer.id);
  assert.equal(again.email, 'ada@example.com');
  assert.deepEqual(again.metadata, { reelfarm_user: 'u-1' });
  ok('customer create and retrieve');

  // A Checkout Session in payment mode with price_data and metadata.
  const params = {
    mode: 'payment',
    success_url: 'https://farm.example/paid?session={CHECKOUT_SESSION_ID}',
    cancel_url: 'https://farm.example/cancel',
    customer: customer.id,
    client_reference_id: 'u-1',
    line_items: [
      {
        price_data: { currency: 'usd', unit_amount: 1900, product_data: { name: '100 credits' } },
        quantity: 1,
      },
    ],
    metadata: { reelfarm_credits: '100' },
    payment_intent_data: { metadata: { reelfarm_credits: '100' } },
  };
  const csKey = 'interop-cs-' + customer.id;
  const session = await stripe.checkout.sessions.create(params, { idempotencyKey: csKey });
  assert.match(session.id, /^cs_test_/);
  assert.equal(session.object, 'checkout.session');
  assert.equal(session.status, 'open');
  assert.equal(session.payment_status, 'unpaid');
  assert.equal(session.amount_total, 1900);
  assert.equal(session.currency, 'usd');
  assert.equal(session.customer, customer.id);
  assert.deepEqual(session.metadata, { reelfarm_credits: '100' });
  assert.ok(session.url.startsWith(base + '/c/pay/'));
  ok('checkout session in payment mode');

  // Idempotency: the same key and parameters replay; other parameters fail.
  const replay = await stripe.checkout.sessions.create(params, { idempotencyKey: csKey });
  assert.equal(replay.id, session.id);
  assert.equal(replay.lastResponse.headers['idempotent-replayed'], 'true');
  await rejects(
    stripe.checkout.sessions.create(
      { ...params, metadata: { reelfarm_credits: '200' } },
      { idempotencyKey: csKey },
    ),
    (e) => {
      assert.ok(e instanceof Stripe.errors.StripeIdempotencyError, e.type);
      assert.equal(e.statusCode, 400);
    },
  );
  ok('idempotent replay and idempotency error');

  // A dropped answer after the server applied the call: the library retries
  // with its own Idempotency-Key and gets the replay, not a second customer.
  const before = (await control('GET', '/_control/state')).counts.customers;
  await control('POST', '/_control/faults', {
    path: '/v1/customers',
    method: 'POST',
    kind: 'drop_after_apply',
  });
  const retried = await stripe.customers.create({ email: 'retry@example.com' });
  const state = await control('GET', '/_control/state');
  assert.equal(state.counts.customers, before + 1);
  const uses = state.requests.filter((r) => r.path === '/v1/customers' && r.method === 'POST');
  const last = uses.slice(-2);
  assert.equal(last[0].idempotency_key, last[1].idempotency_key);
  assert.equal(last[0].status, 0);
  assert.equal(last[1].replayed, true);
  assert.equal(state.idempotency_keys[last[1].idempotency_key], 2);
  assert.match(retried.id, /^cus_/);
  ok('retry after a dropped answer replays');

  // A 500 with Stripe-Should-Retry: the library retries and succeeds.
  await control('POST', '/_control/faults', { path: '/v1/customers/*', method: 'GET', kind: 'status', status: 500 });
  assert.equal((await stripe.customers.retrieve(customer.id)).id, customer.id);
  ok('retry after a 500');

  // A missing required parameter: StripeInvalidRequestError naming it.
  await rejects(
    stripe.checkout.sessions.create({ mode: 'payment', line_items: params.line_items }),
    (e) => {
      assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, e.type);
      assert.equal(e.param, 'success_url');
      assert.equal(e.code, 'parameter_missing');
      assert.equal(e.statusCode, 400);
    },
  );
  await rejects(stripe.customers.retrieve('cus_missing'), (e) => {
    assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, e.type);
    assert.equal(e.code, 'resource_missing');
    assert.equal(e.statusCode, 404);
  });
  await rejects(stripe.customers.create({ colour: 'blue' }), (e) => {
    assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, e.type);
    assert.equal(e.code, 'parameter_unknown');
    assert.equal(e.param, 'colour');
  });
  ok('invalid requests');

  // A declined card: StripeCardError, not retried.
  await control('POST', '/_control/faults', { path: '/v1/checkout/sessions', kind: 'card_declined' });
  await rejects(stripe.checkout.sessions.create(params), (e) => {
    assert.ok(e instanceof Stripe.errors.StripeCardError, e.type);
    assert.equal(e.code, 'card_declined');
    assert.equal(e.decline_code, 'generic_decline');
  });
  ok('card declined');

  // A wrong key.
  const wrong = new Stripe('sk_test_not_the_right_key_0000', options);
  await rejects(wrong.customers.retrieve(customer.id), (e) => {
    assert.ok(e instanceof Stripe.errors.StripeAuthenticationError, e.type);
    assert.equal(e.statusCode, 401);
    assert.match(e.message, /Invalid API Key provided: sk_test_\*+0000$/);
  });
  ok('bad API key');

  // Webhooks: a small receiver checks each delivery with constructEvent.
  const received = [];
  const failures = [];
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const payload = Buffer.concat(chunks).toString('utf8');
      try {
        const event = stripe.webhooks.constructEvent(
          payload,
          req.headers['stripe-signature'],
          webhookSecret,
        );
        received.push(event);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"received":true}');
      } catch (e) {
        failures.push(e.message);
        res.writeHead(400);
        res.end(e.message);
      }
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${receiver.address().port}/webhook`;
  await control('POST', '/_control/webhook', { url: hook });

  // Pay the session on its hosted page, as a browser would.
  const page = await fetch(session.url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<button type="submit">Pay<\/button>/);
  const paid = await fetch(session.url, { method: 'POST', redirect: 'manual' });
  assert.equal(paid.status, 303);
  assert.equal(paid.headers.get('location'), `https://farm.example/paid?session=${session.id}`);
  const waited = await control('POST', '/_control/webhook/wait', { timeout_s: 20 });
  assert.deepEqual(failures, []);
  assert.deepEqual(
    received.map((e) => e.type),
    ['payment_intent.succeeded', 'charge.succeeded', 'checkout.session.completed'],
  );
  assert.ok(waited.deliveries.every((d) => d.status === 200));
  const completed = received[2].data.object;
  assert.equal(completed.id, session.id);
  assert.equal(completed.payment_status, 'paid');
  assert.deepEqual(completed.metadata, { reelfarm_credits: '100' });
  ok('webhook signatures accepted by constructEvent');

  // expand[] on the completed session.
  const expanded = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
  assert.equal(expanded.payment_intent.object, 'payment_intent');
  assert.equal(expanded.payment_intent.status, 'succeeded');
  assert.deepEqual(expanded.payment_intent.metadata, { reelfarm_credits: '100' });
  ok('expand');

  // A partial refund, then the rest, then one too many.
  const refund = await stripe.refunds.create({ payment_intent: expanded.payment_intent.id, amount: 500 });
  assert.match(refund.id, /^re_/);
  assert.equal(refund.status, 'succeeded');
  assert.equal(refund.amount, 500);
  const charge = await stripe.charges.retrieve(expanded.payment_intent.latest_charge);
  assert.equal(charge.amount_refunded, 500);
  assert.equal(charge.refunded, false);
  await rejects(stripe.refunds.create({ payment_intent: expanded.payment_intent.id, amount: 5000 }), (e) => {
    assert.equal(e.code, 'amount_too_large');
  });
  await stripe.refunds.create({ charge: charge.id });
  await rejects(stripe.refunds.create({ charge: charge.id }), (e) => {
    assert.equal(e.code, 'charge_already_refunded');
  });
  await control('POST', '/_control/webhook/wait', { timeout_s: 20 });
  const refunded = received.filter((e) => e.type === 'charge.refunded');
  assert.equal(refunded.length, 2);
  assert.equal(refunded[1].data.object.refunded, true);
  assert.equal(refunded[1].data.object.refunds.data.length, 2);
  ok('refunds');

  // Invoices: a subscription checkout, then pagination over its invoices.
  const product = await stripe.products.create({ name: 'Studio plan' });
  const price = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 2900,
    recurring: { interval: 'month' },
    lookup_key: 'studio_monthly',
  });
  const byKey = await stripe.prices.list({ lookup_keys: ['studio_monthly'] });
  assert.equal(byKey.data[0].id, price.id);
  const subSession = await stripe.checkout.sessions.create({
    mode: 'subscription',
    success_url: 'https://farm.example/ok',
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    subscription_data: { metadata: { plan: 'studio' } },
  });
  await control('POST', `/_control/checkout/${subSession.id}/complete`, {});
  await control('POST', '/_control/clock/advance', { seconds: 40 * 86400 });
  await control('POST', '/_control/clock/advance', { seconds: 40 * 86400 });
  const page1 = await stripe.invoices.list({ customer: customer.id, limit: 2 });
  assert.equal(page1.object, 'list');
  assert.equal(page1.url, '/v1/invoices');
  assert.equal(page1.has_more, true);
  assert.equal(page1.data.length, 2);
  assert.ok(page1.data[0].created >= page1.data[1].created);
  const page2 = await stripe.invoices.list({
    customer: customer.id,
    limit: 2,
    starting_after: page1.data[1].id,
  });
  assert.equal(page2.has_more, false);
  assert.equal(page2.data.length, 1);
  assert.equal(page2.data[0].billing_reason, 'subscription_create');
  const all = [];
  for await (const inv of stripe.invoices.list({ customer: customer.id, limit: 1 })) all.push(inv.id);
  assert.equal(all.length, 3);
  const sub = await stripe.subscriptions.retrieve(page2.data[0].subscription, { expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  assert.equal(sub.latest_invoice.id, page1.data[0].id);
  assert.deepEqual(sub.metadata, { plan: 'studio' });
  await control('POST', '/_control/webhook/wait', { timeout_s: 20 });
  assert.deepEqual(failures, []);
  ok('invoice list pagination');

  receiver.close();
  const seen = (await control('GET', '/_control/state')).stripe_versions;
  assert.ok(Object.keys(seen).length >= 1, 'the library sent a Stripe-Version');
  console.log('interop passed');
  // Keep-alive sockets (the library's agent, fetch) would hold the event loop open.
  process.exit(0);
}

main().catch((e) => {
  console.error('interop FAILED: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
