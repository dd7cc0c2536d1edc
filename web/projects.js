// The projects list, and a new project from a pasted or uploaded Fountain
// screenplay with a live plan preview (POST /plan) before anything is paid.
import { api } from './api.js';
import { h, show, errorBox, setError, duration, when, badge, plural, announce } from './ui.js';
import { onLeave, reloadUser } from './app.js';

const PAGE = 20;

/** #/projects */
export async function projectsPage(offset = 0) {
  const error = errorBox();
  const body = h('tbody');
  const table = h('table', { class: 'list' },
    h('caption', { class: 'visually-hidden', text: 'Your projects, newest first' }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Title' }), h('th', { scope: 'col', text: 'Status' }),
      h('th', { scope: 'col', text: 'Length' }), h('th', { scope: 'col', text: 'Credits' }),
      h('th', { scope: 'col', text: 'Updated' }))),
    body);
  const pager = h('div', { class: 'actions' });
  show('Projects',
    h('div', { class: 'row' }, h('h1', { text: 'Projects' }),
      h('a', { class: 'button primary', href: '#/new', text: 'New project' })),
    error, h('div', { class: 'scroll' }, table), pager);
  try {
    const page = await api('GET', `/projects?limit=${PAGE}&offset=${offset}`);
    if (page.items.length === 0 && offset === 0) {
      body.append(h('tr', {}, h('td', { colspan: 5 },
        'No projects yet. ', h('a', { href: '#/new', text: 'Start one from a screenplay' }), '.')));
    }
    for (const p of page.items) {
      body.append(h('tr', {},
        h('td', {}, h('a', { href: `#/project/${encodeURIComponent(p.id)}`, text: p.title || 'Untitled' })),
        h('td', {}, badge(p.status)),
        h('td', { text: duration(p.video_duration) }),
        h('td', { text: String(p.credits_used ?? 0) }),
        h('td', { text: when(p.updated_at) })));
    }
    if (offset > 0) {
      pager.append(h('button', { type: 'button', text: 'Newer', onclick: () => projectsPage(Math.max(0, offset - PAGE)) }));
    }
    if (offset + page.items.length < page.total) {
      pager.append(h('button', { type: 'button', text: 'Older', onclick: () => projectsPage(offset + PAGE) }));
    }
  } catch (err) {
    setError(error, err);
  }
}

/**
 * A live plan preview bound to a textarea: re-plans 400 ms after the last
 * keystroke; returns the element to place and a function giving the last plan.
 */
export function planPreview(textarea) {
  const region = h('section', { class: 'card preview', 'aria-labelledby': 'preview-title' },
    h('h2', { id: 'preview-title', text: 'Plan preview' }));
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'plan-preview' },
    h('p', { class: 'muted', text: 'Paste or type a screenplay to see its scenes, shots and price.' }));
  region.append(out);
  let timer = 0;
  let seq = 0;
  let last = null;
  async function update() {
    const script = textarea.value;
    const mine = ++seq;
    if (!script.trim()) {
      last = null;
      out.replaceChildren(h('p', { class: 'muted', text: 'Paste or type a screenplay to see its scenes, shots and price.' }));
      return;
    }
    try {
      const plan = await api('POST', '/plan', { script });
      if (mine !== seq) return;
      last = plan;
      out.replaceChildren(...renderPlan(plan));
    } catch (err) {
      if (mine !== seq) return;
      last = null;
      out.replaceChildren(h('p', { class: 'error', text: err.code === 'invalid_screenplay'
        ? `Nothing to film yet: ${err.message}` : err.message }));
    }
  }
  textarea.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(update, 400);
  });
  return { element: region, update, plan: () => last };
}

function renderPlan(plan) {
  const facts = h('dl', { class: 'facts' },
    h('div', {}, h('dt', { text: 'Scenes' }), h('dd', { 'data-testid': 'plan-scenes', text: String(plan.scenes.length) })),
    h('div', {}, h('dt', { text: 'Shots' }), h('dd', { 'data-testid': 'plan-shots', text: String(plan.shots) })),
    h('div', {}, h('dt', { text: 'Characters' }), h('dd', { text: String(plan.characters.length) })),
    h('div', {}, h('dt', { text: 'Length' }), h('dd', { 'data-testid': 'plan-duration', text: plan.duration_text })),
    h('div', {}, h('dt', { text: 'Cost' }), h('dd', { 'data-testid': 'plan-cost', text: `${plan.cost_credits} credits` })));
  const notes = [];
  if (!plan.fits_plan) {
    notes.push(h('p', { class: 'warn', text: `This film (${plan.duration_text}) is longer than your ${plan.plan} plan allows (${duration(plan.max_video_seconds)}). ` },
      h('a', { href: '#/credits', text: 'Upgrade the plan' })));
  }
  if (!plan.affordable) {
    notes.push(h('p', { class: 'warn', text: `Your balance (${plan.credits_balance} credits) does not cover it. ` },
      h('a', { href: '#/credits', text: 'Get credits' })));
  }
  const scenes = h('ol', { class: 'scenes' }, plan.scenes.map((s) => h('li', {},
    h('strong', { text: s.heading || 'Prologue' }),
    ` — ${plural(s.shots, 'shot')}, ${duration(s.duration_seconds)}`,
    s.characters.length ? h('span', { class: 'muted', text: ` · ${s.characters.join(', ')}` }) : null)));
  const people = plan.characters.length
    ? h('p', {}, h('strong', { text: 'Characters: ' }), plan.characters.map((c) => `${c.name} (${plural(c.shots, 'shot')})`).join(', '))
    : null;
  return [facts, ...notes, people, h('details', { open: plan.scenes.length <= 8 }, h('summary', { text: 'Scenes' }), scenes)];
}

/** #/new */
export function newProjectPage() {
  const error = errorBox();
  const title = h('input', { id: 'title', name: 'title', type: 'text', required: true, maxlength: 200, autocomplete: 'off' });
  const script = h('textarea', { id: 'script', name: 'script', rows: 16, spellcheck: 'false',
    'aria-describedby': 'script-help' });
  const file = h('input', { id: 'file', type: 'file', accept: '.fountain,.txt,.spmd,text/plain' });
  const preview = planPreview(script);
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    script.value = await f.text();
    if (!title.value) title.value = f.name.replace(/\.[^.]+$/, '');
    preview.update();
    announce(`Loaded ${f.name}`);
  });
  const render = h('button', { type: 'submit', class: 'primary', value: 'render', text: 'Create and render' });
  const draft = h('button', { type: 'submit', value: 'draft', text: 'Save as draft' });
  const form = h('form', { class: 'card' },
    h('div', { class: 'field' }, h('label', { for: 'title', text: 'Title' }), title),
    h('div', { class: 'field' }, h('label', { for: 'file', text: 'Upload a Fountain file' }), file),
    h('div', { class: 'field' }, h('label', { for: 'script', text: 'Screenplay (Fountain)' }),
      h('p', { id: 'script-help', class: 'muted', text: 'Scene headings (INT. KITCHEN - NIGHT), action, CHARACTER names over dialogue. ' },
        h('a', { href: 'https://fountain.io/syntax', rel: 'noopener noreferrer', target: '_blank', text: 'Fountain syntax' })),
      script),
    error,
    h('div', { class: 'actions' }, render, draft));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const renderNow = event.submitter ? event.submitter.value === 'render' : true;
    setError(error, null);
    render.disabled = draft.disabled = true;
    try {
      const project = await api('POST', '/projects', { title: title.value.trim() || 'Untitled', script: script.value });
      if (renderNow) {
        try {
          await api('POST', `/projects/${project.id}/render`);
          reloadUser();
        } catch (err) {
          // The project exists; its page shows the problem and a Render button.
          sessionStorage.setItem('reelfarm:notice', `Saved, but not rendered: ${err.message}`);
        }
      }
      location.hash = `#/project/${encodeURIComponent(project.id)}`;
    } catch (err) {
      setError(error, err);
    } finally {
      render.disabled = draft.disabled = false;
    }
  });
  show('New project', h('h1', { text: 'New project' }), h('div', { class: 'split' }, form, preview.element));
  onLeave(() => {});
}
