// Small DOM helpers: elements built with textContent only (no innerHTML, so
// nothing from the API or a screenplay is ever parsed as markup), the
// screen-reader announcer and formatting.

/**
 * Creates an element. `attrs`: attributes, plus `class`, `text`, `on<event>`
 * handlers and boolean properties (hidden, disabled...); children: nodes,
 * strings or arrays of them (null and false skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the page's main content and moves focus to its heading. */
export function show(title, ...content) {
  const main = document.getElementById('main');
  main.replaceChildren(...content.flat().filter(Boolean));
  document.title = title ? `${title} · Reelfarm` : 'Reelfarm';
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

/** Says `message` to screen readers (polite). */
export function announce(message) {
  const region = document.getElementById('announcer');
  region.textContent = '';
  // A fresh text node after a tick is read even when the text repeats.
  setTimeout(() => { region.textContent = message; }, 50);
}

/** An error box (role=alert) for `err`, or an empty hidden one. */
export function errorBox(err) {
  const box = h('p', { class: 'error', role: 'alert', hidden: !err });
  if (err) box.textContent = err.message || String(err);
  return box;
}

/** Shows `err` in `box` (from errorBox), or hides it. */
export function setError(box, err) {
  box.textContent = err ? err.message || String(err) : '';
  box.hidden = !err;
}

/** "1:05" for 65 s; "–" for nothing. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '–';
  const s = Math.ceil(seconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** A date and time in the reader's locale. */
export function when(text) {
  if (!text) return '–';
  const d = new Date(text.replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? text : d.toLocaleString();
}

/** A status word as a badge ("complete", "processing"...). */
export function badge(status) {
  return h('span', { class: `badge s-${String(status || 'none').replace(/[^a-z_]/g, '')}`, text: status || '–' });
}

/** "1 shot", "2 shots". */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
