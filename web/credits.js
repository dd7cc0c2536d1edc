// Credits: balance and plan, the ledger (keyset pages) and the plan
// catalogue. Plans and credit packs are bought on the Billing page (billing.js,
// Stripe Checkout); where the farm takes no payments an administrator changes
// them, so this page only shows them.
import { api } from './api.js';
import { h, show, errorBox, setError, when, duration } from './ui.js';

function price(cents) {
  return cents ? `$${(cents / 100).toFixed(2)} / month` : 'free';
}

/** #/credits */
export async function creditsPage() {
  const error = errorBox();
  const summary = h('dl', { class: 'facts' });
  const history = h('tbody');
  const more = h('button', { type: 'button', text: 'Older entries', hidden: true });
  const plans = h('div', { class: 'plans' });
  show('Credits',
    h('h1', { text: 'Credits' }), error,
    h('section', { class: 'card', 'aria-labelledby': 'bal' }, h('h2', { id: 'bal', text: 'Balance' }), summary),
    h('section', { class: 'card', 'aria-labelledby': 'plans-title' }, h('h2', { id: 'plans-title', text: 'Plans' }),
      h('p', { class: 'muted', 'data-testid': 'plans-note' },
        'Plans and credit packs are bought on the ', h('a', { href: '#/billing', text: 'Billing page' }),
        '; where this farm takes no online payments, an administrator changes your plan.'),
      plans),
    h('section', { class: 'card', 'aria-labelledby': 'hist' }, h('h2', { id: 'hist', text: 'History' }),
      h('div', { class: 'scroll' }, h('table', { class: 'list' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: 'When' }), h('th', { scope: 'col', text: 'What' }),
          h('th', { scope: 'col', text: 'Change' }), h('th', { scope: 'col', text: 'Balance' }))),
        history)),
      h('div', { class: 'actions' }, more)));

  let before = null;
  async function loadHistory() {
    const page = await api('GET', `/credits/history?limit=20${before ? `&before=${before}` : ''}`);
    for (const e of page.items) {
      history.append(h('tr', {},
        h('td', { text: when(e.created_at) }),
        h('td', { text: e.description || e.kind }),
        h('td', { class: e.delta < 0 ? 'neg' : 'pos', text: e.delta > 0 ? `+${e.delta}` : String(e.delta) }),
        h('td', { text: String(e.balance_after) })));
    }
    if (page.items.length === 0 && !before) {
      history.append(h('tr', {}, h('td', { colspan: 4, text: 'No entries yet.' })));
    }
    before = page.next_before || null;
    more.hidden = !before;
  }
  more.addEventListener('click', () => loadHistory().catch((err) => setError(error, err)));

  try {
    const [balance, catalogue] = await Promise.all([api('GET', '/credits/balance'), api('GET', '/credits/plans')]);
    const current = catalogue.items.find((p) => p.name === balance.plan);
    summary.replaceChildren(
      h('div', {}, h('dt', { text: 'Balance' }), h('dd', { 'data-testid': 'balance', text: balance.unlimited ? 'unlimited' : `${balance.balance} credits` })),
      h('div', {}, h('dt', { text: 'Plan' }), h('dd', { text: current ? current.display_name : balance.plan })),
      h('div', {}, h('dt', { text: 'Renews' }), h('dd', { text: balance.renews_on || '–' })));
    for (const p of catalogue.items) {
      const isCurrent = p.name === balance.plan;
      const badge = isCurrent ? h('p', { class: 'current-plan', text: 'Your plan' }) : null;
      plans.append(h('article', { class: `plan${isCurrent ? ' current' : ''}` },
        h('h3', { text: p.display_name }),
        h('p', { class: 'price', text: price(p.price_cents) }),
        h('ul', {},
          h('li', { text: p.monthly_credits === null ? 'unlimited credits' : `${p.monthly_credits} credits a month` }),
          h('li', { text: p.max_video_seconds ? `films up to ${duration(p.max_video_seconds)}` : 'films of any length' }),
          p.watermark ? h('li', { text: 'watermarked' }) : h('li', { text: 'no watermark' }),
          p.priority ? h('li', { text: 'priority rendering' }) : null),
        badge));
    }
    await loadHistory();
  } catch (err) {
    setError(error, err);
  }
}
