// Operators (admins): the render nodes with drain / undrain, and links to
// the Grafana dashboards.
import { api, consoleConfig } from './api.js';
import { h, show, errorBox, setError, badge, announce } from './ui.js';
import { onLeave, session } from './app.js';

function age(ms) {
  if (ms === null || ms === undefined) return '–';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function gpus(list) {
  if (!Array.isArray(list) || list.length === 0) return 'none';
  return list.map((g) => `#${g.index} ${Math.round((g.memory_mb || 0) / 1024)} GiB ${g.utilization ?? 0}%`).join(', ');
}

/** #/operators */
export async function operatorsPage() {
  if (!session.user || session.user.role !== 'admin') {
    show('Operators', h('h1', { text: 'Operators' }), h('p', { text: 'This page is for administrators.' }));
    return;
  }
  const error = errorBox();
  const body = h('tbody');
  const links = h('p', { class: 'muted', text: 'No Grafana address is configured (gateway.grafana_url).' });
  show('Operators',
    h('h1', { text: 'Operators' }),
    h('section', { class: 'card', 'aria-labelledby': 'nodes-title' },
      h('h2', { id: 'nodes-title', text: 'Render nodes' }), error,
      h('div', { class: 'scroll' }, h('table', { class: 'list', 'data-testid': 'nodes' },
        h('thead', {}, h('tr', {},
          ['Node', 'State', 'Slots used', 'GPUs', 'Current shots', 'Heartbeat', 'Failures', 'Action']
            .map((t) => h('th', { scope: 'col', text: t })))),
        body))),
    h('section', { class: 'card', 'aria-labelledby': 'dash' }, h('h2', { id: 'dash', text: 'Dashboards' }), links));

  consoleConfig().then((config) => {
    if (config.grafana_url) {
      links.className = '';
      links.replaceChildren(h('a', { href: config.grafana_url, rel: 'noopener noreferrer', target: '_blank', text: 'Open the Grafana dashboards' }));
    }
  });

  let busy = false;
  async function load() {
    if (busy) return;
    busy = true;
    try {
      const nodes = await api('GET', '/nodes');
      setError(error, null);
      // Rows are rebuilt every few seconds: keep a keyboard user's place.
      const focused = body.contains(document.activeElement) ? document.activeElement.dataset.node : null;
      body.replaceChildren(...nodes.items.map(row));
      if (focused) {
        const again = body.querySelector(`button[data-node="${CSS.escape(focused)}"]`);
        if (again) again.focus();
      }
      if (nodes.items.length === 0) body.append(h('tr', {}, h('td', { colspan: 8, text: 'No nodes are registered.' })));
    } catch (err) {
      setError(error, err);
    } finally {
      busy = false;
    }
  }

  function row(n) {
    const draining = n.state === 'draining' || n.state === 'drained';
    const action = draining ? 'undrain' : 'drain';
    const button = h('button', { type: 'button', 'data-node': n.id, text: draining ? 'Undrain' : 'Drain',
      'aria-label': `${draining ? 'Undrain' : 'Drain'} ${n.hostname || n.id}` });
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api('POST', `/nodes/${encodeURIComponent(n.id)}/${action}`);
        announce(`${n.id}: ${action} requested`);
        await load();
      } catch (err) {
        setError(error, err);
        button.disabled = false;
      }
    });
    const leases = Array.isArray(n.leases) ? n.leases : [];
    return h('tr', { 'data-state': n.state },
      h('th', { scope: 'row' }, n.id, n.hostname && n.hostname !== n.id ? h('div', { class: 'muted', text: n.hostname }) : null),
      h('td', {}, badge(n.state)),
      h('td', { text: `${n.used}/${n.slots}` }),
      h('td', { text: gpus(n.gpus) }),
      h('td', { text: leases.length ? leases.join(', ') : (typeof n.leases === 'number' ? String(n.leases) : '–') }),
      h('td', { text: age(n.last_heartbeat_ms_ago) }),
      h('td', { text: String(n.failures ?? 0) }),
      h('td', {}, button));
  }

  await load();
  const timer = setInterval(load, 3000);
  onLeave(() => clearInterval(timer));
}
