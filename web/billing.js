// Billing: the plan and its subscription, plans and credit packs bought
// through Stripe's hosted Checkout, invoices, the customer portal,
// cancellation at the period's end, and the data-sharing opt-in. Credits and
// plans change only when Stripe confirms a payment (its webhook), so after a
// return from Checkout the page says so and reads the state again.
import { api } from './api.js';
import { h, show, errorBox, setError, announce } from './ui.js';
import { onLeave, reloadUser } from './app.js';

/** "$10.00" in the farm's currency. */
function money(cents, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: String(currency || 'usd').toUpperCase() })
      .format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${String(currency || '').toUpperCase()}`;
  }
}

/** A date from unix seconds, in the reader's locale. */
function day(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleDateString() : '–';
}

/** A date and time from an ISO text. */
function moment(text) {
  const d = new Date(String(text || '').replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? String(text || '') : d.toLocaleString();
}

/**
 * What Stripe put on the return URL (`checkout=success|cancelled`), read from
 * the query or from the hash (the return URL may end in `#/billing`).
 */
export function checkoutReturn() {
  const fromHash = location.hash.replace(/^#\/billing/, '').replace(/^[?&]/, '');
  for (const text of [location.search.slice(1), fromHash]) {
    const value = new URLSearchParams(text).get('checkout');
    if (value) return value;
  }
  return '';
}

/** #/billing */
export async function billingPage() {
  const error = errorBox();
  const returned = checkoutReturn();
  const notice = h('p', { class: 'warn', role: 'status', 'data-testid': 'checkout-notice', hidden: !returned });
  if (returned === 'success') {
    notice.textContent = 'Thank you. Your purchase will appear here once Stripe confirms the payment; '
      + 'this page refreshes itself until then.';
  } else if (returned === 'cancelled') {
    notice.textContent = 'Checkout was cancelled: nothing was charged.';
  }
  if (returned) {
    // Reloading the page later shows the plain page, not the notice again.
    history.replaceState(null, '', location.pathname + '#/billing');
  }

  const body = h('div', { 'data-testid': 'billing' });
  const sharing = sharingSection();
  show('Billing', h('h1', { text: 'Billing' }), notice, error, body, sharing.section);

  let timer = 0;
  let left = returned === 'success' ? 15 : 0;
  onLeave(() => { clearTimeout(timer); left = 0; });

  async function load() {
    const [offer, me] = await Promise.all([
      api('GET', '/billing').catch((err) => err),
      api('GET', '/users/me'),
    ]);
    if (offer instanceof Error) {
      if (offer.code !== 'billing_disabled') throw offer;
      sharing.update(me, null);
      const catalogue = await api('GET', '/credits/plans').catch(() => ({ items: [] }));
      const plan = catalogue.items.find((p) => p.name === me.plan);
      body.replaceChildren(disabledSection(me, plan ? plan.display_name : me.plan));
      return;
    }
    sharing.update(me, offer);
    const invoices = await api('GET', '/billing/invoices?limit=20').catch((err) => err);
    body.replaceChildren(...enabledSections(offer, invoices, me, { error, reload }));
  }

  async function reload() {
    setError(error, null);
    try {
      await load();
      await reloadUser();
    } catch (err) {
      setError(error, err);
    }
  }

  // After Checkout, Stripe's webhook may land a few seconds later: read again.
  function poll() {
    if (left <= 0) return;
    left -= 1;
    timer = setTimeout(async () => {
      await reload();
      poll();
    }, 2000);
  }

  sharing.onChange = reload;
  await reload();
  poll();
}

function disabledSection(me, planName) {
  return h('section', { class: 'card', 'aria-labelledby': 'billing-off', 'data-testid': 'billing-disabled' },
    h('h2', { id: 'billing-off', text: 'Plans and credits' }),
    h('p', { text: 'This farm takes no online payments: plans and credits are managed by an administrator on this farm. '
      + 'Ask them to change your plan or add credits.' }),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', { text: 'Plan' }), h('dd', { text: planName })),
      h('div', {}, h('dt', { text: 'Balance' }),
        h('dd', { text: me.credits_unlimited ? 'unlimited' : `${me.credits_balance} credits` }))),
    h('p', {}, h('a', { href: '#/credits', text: 'See your credit history' })));
}

function enabledSections(offer, invoices, me, { error, reload }) {
  const currency = offer.currency;
  const sub = offer.subscription;
  const live = sub && sub.status !== 'canceled' && sub.status !== 'incomplete_expired';
  const planName = (name) => (offer.plans.find((p) => p.name === name) || {}).display_name || name;

  // Starts a Checkout Session and hands the browser to Stripe's hosted page.
  async function checkout(button, what, label) {
    setError(error, null);
    button.disabled = true;
    try {
      const session = await api('POST', '/billing/checkout', what);
      announce(`Opening Stripe Checkout for ${label}`);
      location.assign(session.url);
    } catch (err) {
      setError(error, err);
      button.disabled = false;
    }
  }

  // --- the plan and its subscription ---
  const facts = h('dl', { class: 'facts' },
    h('div', {}, h('dt', { text: 'Plan' }), h('dd', { 'data-testid': 'billing-plan', text: planName(offer.plan) })),
    h('div', {}, h('dt', { text: 'Balance' }),
      h('dd', { 'data-testid': 'billing-balance', text: me.credits_unlimited ? 'unlimited' : `${me.credits_balance} credits` })));
  if (live) {
    facts.append(h('div', {}, h('dt', { text: 'Subscription' }), h('dd', { text: sub.status.replace(/_/g, ' ') })));
    facts.append(h('div', {},
      h('dt', { text: sub.cancel_at_period_end ? 'Ends on' : 'Renews on' }),
      h('dd', { 'data-testid': 'billing-period-end', text: day(sub.current_period_end) })));
  }
  const pastDue = live && (sub.past_due_since || sub.status === 'past_due' || sub.status === 'unpaid')
    ? h('p', { class: 'warn', role: 'alert', 'data-testid': 'past-due',
      text: `Your last payment failed${sub.past_due_since ? ` on ${day(sub.past_due_since)}` : ''}. `
        + 'Update your payment method with "Manage payment methods" to keep your plan.' })
    : null;
  const ending = live && sub.cancel_at_period_end
    ? h('p', { class: 'muted', text: `Your plan has been cancelled and ends on ${day(sub.current_period_end)}; `
      + 'you keep its credits until then.' })
    : null;

  const portalBtn = h('button', { type: 'button', text: 'Manage payment methods' });
  portalBtn.addEventListener('click', async () => {
    setError(error, null);
    portalBtn.disabled = true;
    try {
      const portal = await api('POST', '/billing/portal');
      location.assign(portal.url);
    } catch (err) {
      setError(error, err.status === 409 ? new Error('Payment methods can be managed after your first purchase.') : err);
      portalBtn.disabled = false;
    }
  });
  const cancelBtn = live && !sub.cancel_at_period_end
    ? h('button', { type: 'button', class: 'danger', text: 'Cancel plan' })
    : null;
  if (cancelBtn) {
    cancelBtn.addEventListener('click', async () => {
      if (!window.confirm(`Cancel ${planName(sub.plan)}? It stays active until ${day(sub.current_period_end)}, `
        + 'then your account returns to the free plan.')) return;
      setError(error, null);
      cancelBtn.disabled = true;
      try {
        await api('POST', '/billing/subscription/cancel');
        announce('Plan cancelled: it ends at the end of the paid period');
        await reload();
      } catch (err) {
        setError(error, err);
        cancelBtn.disabled = false;
      }
    });
  }
  const current = h('section', { class: 'card', 'aria-labelledby': 'billing-current' },
    h('h2', { id: 'billing-current', text: 'Your plan' }), facts, pastDue, ending,
    h('div', { class: 'actions' }, portalBtn, cancelBtn));

  // --- plans ---
  const discount = offer.discount_percent
    ? h('p', { class: 'muted', 'data-testid': 'discount',
      text: `Your ${offer.discount_percent}% membership discount is applied at checkout.` })
    : null;
  const plans = h('div', { class: 'plans' });
  for (const p of offer.plans) {
    const isCurrent = p.name === offer.plan;
    let action = null;
    if (isCurrent) {
      action = h('p', { class: 'current-plan', text: 'Your plan' });
    } else if (p.purchasable) {
      const button = h('button', { type: 'button', class: 'primary', text: 'Subscribe',
        'aria-label': `Subscribe to ${p.display_name}`, disabled: live });
      button.addEventListener('click', () => checkout(button, { plan: p.name }, p.display_name));
      action = h('div', { class: 'actions' }, button);
    }
    plans.append(h('article', { class: `plan${isCurrent ? ' current' : ''}` },
      h('h3', { text: p.display_name }),
      h('p', { class: 'price', text: p.price_cents ? `${money(p.price_cents, currency)} / month` : 'free' }),
      h('ul', {}, h('li', { text: p.monthly_credits === null ? 'unlimited credits' : `${p.monthly_credits} credits a month` })),
      action));
  }
  const plansSection = h('section', { class: 'card', 'aria-labelledby': 'billing-plans' },
    h('h2', { id: 'billing-plans', text: 'Plans' }),
    live ? h('p', { class: 'muted', text: 'You have a subscription: cancel it, or change it in "Manage payment methods", before subscribing to another plan.' }) : null,
    discount, plans);

  // --- credit packs ---
  const packs = h('div', { class: 'plans' });
  for (const pack of offer.credit_packs) {
    const button = h('button', { type: 'button', class: 'primary', text: 'Buy',
      'aria-label': `Buy ${pack.credits} credits for ${money(pack.price_cents, currency)}` });
    button.addEventListener('click', () => checkout(button, { credit_pack: pack.name }, `${pack.credits} credits`));
    packs.append(h('article', { class: 'plan', 'data-pack': pack.name },
      h('h3', { text: `${pack.credits} credits` }),
      h('p', { class: 'price', text: money(pack.price_cents, currency) }),
      h('ul', {}, h('li', { text: 'one-time purchase' }), h('li', { text: 'kept until used' })),
      h('div', { class: 'actions' }, button)));
  }
  const packsSection = h('section', { class: 'card', 'aria-labelledby': 'billing-packs' },
    h('h2', { id: 'billing-packs', text: 'Credit packs' }), packs);

  // --- invoices ---
  let invoiceContent;
  if (invoices instanceof Error) {
    invoiceContent = errorBox(invoices);
  } else if (!invoices.items.length) {
    invoiceContent = h('p', { class: 'muted', 'data-testid': 'no-invoices', text: 'No invoices.' });
  } else {
    invoiceContent = h('div', { class: 'scroll' }, h('table', { class: 'list', 'data-testid': 'invoices' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', text: 'Date' }), h('th', { scope: 'col', text: 'Number' }),
        h('th', { scope: 'col', text: 'Amount' }), h('th', { scope: 'col', text: 'Status' }),
        h('th', { scope: 'col', text: 'Invoice' }))),
      h('tbody', {}, invoices.items.map((i) => h('tr', {},
        h('td', { text: day(i.created) }),
        h('td', { text: i.number || i.id }),
        h('td', { text: money(i.status === 'paid' ? i.amount_paid : i.amount_due, i.currency || currency) }),
        h('td', { text: i.status }),
        h('td', {}, i.hosted_invoice_url
          ? h('a', { href: i.hosted_invoice_url, target: '_blank', rel: 'noopener noreferrer',
            text: 'View', 'aria-label': `View invoice ${i.number || i.id} at Stripe (opens a new tab)` })
          : '–'))))));
  }
  const invoiceSection = h('section', { class: 'card', 'aria-labelledby': 'billing-invoices' },
    h('h2', { id: 'billing-invoices', text: 'Invoices' }), invoiceContent);

  return [current, plansSection, packsSection, invoiceSection];
}

/** The data-sharing opt-in: a checkbox saved with PUT /users/me. */
function sharingSection() {
  const box = h('input', { type: 'checkbox', id: 'data-sharing', 'aria-describedby': 'data-sharing-help data-sharing-state' });
  const state = h('p', { id: 'data-sharing-state', class: 'muted', 'data-testid': 'data-sharing-state' });
  const error = errorBox();
  const discount = h('span', { text: '10%' });
  const section = h('section', { class: 'card', 'aria-labelledby': 'billing-sharing' },
    h('h2', { id: 'billing-sharing', text: 'Data sharing' }),
    h('p', { id: 'data-sharing-help' },
      'When you opt in, the films, images and audio you render on this farm may be shared by Reelfarm. '
      + 'In return you get a ', discount, ' membership discount on plans and credit packs at checkout. '
      + 'You can opt out at any time.'),
    h('div', { class: 'check' }, box, h('label', { for: 'data-sharing', text: 'Share my outputs for a membership discount' })),
    state, error);

  const out = {
    section,
    onChange: async () => {},
    update(me, offer) {
      if (!box.disabled) box.checked = !!me.data_sharing_opt_in;  // not while a change is saved
      state.textContent = me.data_sharing_opt_in
        ? `You opted in on ${moment(me.data_sharing_opt_in_at)}.`
        : 'You have not opted in.';
      if (offer && offer.discount_percent) discount.textContent = `${offer.discount_percent}%`;
    },
  };
  box.addEventListener('change', async () => {
    const want = box.checked;
    setError(error, null);
    box.disabled = true;
    try {
      const me = await api('PUT', '/users/me', { data_sharing_opt_in: want });
      out.update(me);
      announce(want ? 'Opted in to data sharing' : 'Opted out of data sharing');
      await out.onChange();
    } catch (err) {
      box.checked = !want;
      setError(error, err);
    } finally {
      box.disabled = false;
    }
  });
  return out;
}
