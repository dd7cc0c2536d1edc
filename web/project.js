// One project: live render progress from the event stream, render / cancel /
// regenerate, the finished film with its subtitles and downloads, and the
// screenplay to edit.
import { api, refresh, mediaUrl } from './api.js';
import { h, show, errorBox, setError, duration, badge, announce } from './ui.js';
import { onLeave, reloadUser } from './app.js';
import { planPreview } from './projects.js';

const LIVE = new Set(['queued', 'processing']);

/** ETA from the progress made since the render was first seen running. */
class Eta {
  constructor() { this.start = null; }
  update(percent) {
    const now = Date.now();
    if (this.start === null || percent < this.start.percent) {
      this.start = { percent, at: now };
      return null;
    }
    const done = percent - this.start.percent;
    if (done <= 0 || percent >= 100) return null;
    const perPercent = (now - this.start.at) / done;
    return ((100 - percent) * perPercent) / 1000;
  }
}

/** #/project/<id> */
export async function projectPage(id) {
  let project;
  try {
    project = await api('GET', `/projects/${encodeURIComponent(id)}`);
  } catch (err) {
    show('Project', h('h1', { text: 'Project' }), errorBox(err),
      h('p', {}, h('a', { href: '#/projects', text: 'Back to the projects' })));
    return;
  }
  const error = errorBox();
  const notice = sessionStorage.getItem('reelfarm:notice');
  sessionStorage.removeItem('reelfarm:notice');
  const status = h('span', { 'data-testid': 'status' }, badge(project.status));

  // Progress
  const bar = h('progress', { id: 'progress', max: 100, value: 0, 'aria-describedby': 'progress-text' });
  const percentText = h('span', { 'data-testid': 'percent', text: '0%' });
  const shotsText = h('span', { 'data-testid': 'shots', text: '–' });
  const stepText = h('span', { 'data-testid': 'step', text: '–' });
  const etaText = h('span', { 'data-testid': 'eta', text: '–' });
  const progress = h('section', { class: 'card', 'aria-labelledby': 'progress-title' },
    h('h2', { id: 'progress-title', text: 'Render' }),
    h('label', { for: 'progress', class: 'visually-hidden', text: 'Render progress' }), bar,
    h('dl', { id: 'progress-text', class: 'facts' },
      h('div', {}, h('dt', { text: 'Done' }), h('dd', {}, percentText)),
      h('div', {}, h('dt', { text: 'Shots' }), h('dd', {}, shotsText)),
      h('div', {}, h('dt', { text: 'Step' }), h('dd', {}, stepText)),
      h('div', {}, h('dt', { text: 'Time left' }), h('dd', {}, etaText))));
  const jobError = h('p', { class: 'error', hidden: true });
  progress.append(jobError);

  // Actions
  const renderBtn = h('button', { type: 'button', class: 'primary', text: 'Render' });
  const cancelBtn = h('button', { type: 'button', class: 'danger', text: 'Cancel render' });
  const regenBtn = h('button', { type: 'button', text: 'Regenerate' });
  const recastBtn = h('button', {
    type: 'button', text: 'Re-cast',
    title: 'New looks and voices for every character and place from the next render on',
  });
  const actions = h('div', { class: 'actions' }, renderBtn, cancelBtn, regenBtn, recastBtn);
  progress.append(actions);

  const film = h('section', { class: 'card', 'aria-labelledby': 'film-title', hidden: true });

  // Screenplay
  const script = h('textarea', { id: 'script', rows: 14, spellcheck: 'false' });
  script.value = project.script || '';
  const preview = planPreview(script);
  const saveError = errorBox();
  const save = h('button', { type: 'submit', text: 'Save screenplay' });
  const scriptForm = h('form', {}, h('label', { for: 'script', text: 'Screenplay (Fountain)' }), script, saveError,
    h('div', { class: 'actions' }, save));
  scriptForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    setError(saveError, null);
    save.disabled = true;
    try {
      await api('PUT', `/projects/${encodeURIComponent(id)}`, { script: script.value });
      announce('Screenplay saved');
    } catch (err) {
      setError(saveError, err);
    } finally {
      save.disabled = false;
    }
  });
  const editor = h('details', { class: 'card' }, h('summary', { text: 'Screenplay and plan' }),
    h('div', { class: 'split' }, scriptForm, preview.element));
  editor.addEventListener('toggle', () => { if (editor.open) preview.update(); }, { once: true });

  const deleteBtn = h('button', { type: 'button', class: 'danger', text: 'Delete project' });
  deleteBtn.addEventListener('click', async () => {
    if (!window.confirm(`Delete "${project.title}" and its film? This cannot be undone.`)) return;
    try {
      await api('DELETE', `/projects/${encodeURIComponent(id)}`);
      announce('Project deleted');
      location.hash = '#/projects';
    } catch (err) {
      setError(error, err);
    }
  });

  show(project.title,
    h('p', {}, h('a', { href: '#/projects', text: '← Projects' })),
    h('div', { class: 'row' }, h('h1', { text: project.title || 'Untitled' }), status),
    notice ? h('p', { class: 'warn', role: 'status', text: notice }) : null,
    error, progress, film, editor,
    h('div', { class: 'actions' }, deleteBtn));

  let job = null;
  const eta = new Eta();
  let lastAnnounced = -1;

  function setButtons() {
    const live = job && LIVE.has(job.status);
    renderBtn.hidden = live || (job !== null && job.status === 'complete');
    cancelBtn.hidden = !live;
    regenBtn.hidden = live || job === null;
    recastBtn.hidden = live;
  }

  function showFilm(version) {
    const v = version || project.updated_at;
    const video = h('video', {
      controls: true, preload: 'metadata', playsinline: true, 'data-testid': 'film',
      poster: mediaUrl(id, 'thumbnail', v),
    },
    h('source', { src: mediaUrl(id, 'film', v), type: 'video/mp4' }),
    h('track', { kind: 'subtitles', srclang: 'en', label: 'English', src: mediaUrl(id, 'vtt', v), default: true }),
    'Your browser cannot play this film; download it below.');
    // A range request refused mid-film (the access cookie lapsed while the
    // tab slept) stops the video: renew the session and resume where it was.
    let resumed = 0;
    video.addEventListener('error', async () => {
      if (Date.now() - resumed < 10000) return;
      resumed = Date.now();
      const at = video.currentTime;
      if (await refresh()) {
        video.load();
        video.addEventListener('loadedmetadata', () => { video.currentTime = at; }, { once: true });
      }
    }, true);
    const link = (kind, label, file) => h('li', {}, h('a', { href: mediaUrl(id, kind, v), download: file, text: label }));
    film.replaceChildren(
      h('h2', { id: 'film-title', text: 'Film' }), video,
      h('h3', { text: 'Downloads' }),
      h('ul', { class: 'downloads' },
        link('film', 'Film (MP4)', 'film.mp4'),
        link('srt', 'Subtitles (SRT)', 'film.srt'),
        link('vtt', 'Subtitles (WebVTT)', 'film.vtt'),
        link('thumbnail', 'Thumbnail (JPEG)', 'thumbnail.jpg'),
        link('manifest', 'Manifest (JSON)', 'manifest.json')));
    film.hidden = false;
  }

  function onUpdate(data) {
    const before = job ? job.status : null;
    job = data;
    status.replaceChildren(badge(data.status));
    const percent = Math.max(0, Math.min(100, Number(data.percent) || 0));
    bar.value = percent;
    percentText.textContent = `${percent}%`;
    shotsText.textContent = data.shots_total ? `${data.shots_done}/${data.shots_total}` : '–';
    stepText.textContent = data.step || data.status;
    const left = data.status === 'processing' ? eta.update(percent) : null;
    etaText.textContent = data.status === 'complete' ? 'done' : left === null ? '–' : duration(left);
    jobError.hidden = !data.error;
    jobError.textContent = data.error ? `The render stopped: ${data.error}` : '';
    setButtons();
    if (before !== data.status) {
      announce(`Render ${data.status}`);
      if (data.status === 'complete' && before !== null) {
        showFilm(data.job);
        reloadUser();
      }
    } else if (Math.floor(percent / 25) !== Math.floor(lastAnnounced / 25)) {
      announce(`Render ${percent}% done`);
    }
    lastAnnounced = percent;
  }

  // The event stream: EventSource reconnects by itself (sending
  // Last-Event-ID); a refused reconnect (the access cookie lapsed) is
  // retried after renewing the session.
  let source = null;
  let closed = false;
  let retryTimer = 0;
  function follow() {
    source = new EventSource(`/api/v1/projects/${encodeURIComponent(id)}/events`);
    for (const type of ['state', 'progress']) {
      source.addEventListener(type, (e) => {
        try { onUpdate(JSON.parse(e.data)); } catch { /* a malformed event is skipped */ }
      });
    }
    source.addEventListener('error', (e) => {
      if (e.data) {
        announce('Live updates paused; reconnecting');
        return;
      }
      if (source.readyState === EventSource.CLOSED && !closed) {
        clearTimeout(retryTimer);
        retryTimer = setTimeout(async () => {
          if (closed) return;
          await refresh();
          follow();
        }, 3000);
      }
    });
  }
  follow();
  onLeave(() => {
    closed = true;
    clearTimeout(retryTimer);
    if (source) source.close();
  });

  if (project.video_url) showFilm(project.updated_at);
  setButtons();

  async function act(button, path, message) {
    setError(error, null);
    button.disabled = true;
    try {
      const out = await api('POST', `/projects/${encodeURIComponent(id)}/${path}`);
      announce(out && out.message ? out.message : message);
      if (out && out.job) {
        onUpdate({ job: out.job.id, status: out.job.status, percent: out.job.progress,
          step: out.job.current_step, shots_done: out.job.shots_done, shots_total: out.job.shots_total,
          error: out.job.error || '' });
      }
      reloadUser();
    } catch (err) {
      setError(error, err);
    } finally {
      button.disabled = false;
    }
  }
  renderBtn.addEventListener('click', () => act(renderBtn, 'render', 'Render queued'));
  cancelBtn.addEventListener('click', () => act(cancelBtn, 'cancel', 'Render cancelled'));
  regenBtn.addEventListener('click', () => act(regenBtn, 'regenerate', 'Regeneration queued'));

  // The project's seed fixes its casting (looks, voices and so timing): a
  // render keeps it, and only this deliberate choice draws a new one.
  recastBtn.addEventListener('click', async () => {
    if (!window.confirm('Re-cast: every character and place gets a new look and voice. '
      + 'The next render makes every shot again and is charged in full. Continue?')) return;
    setError(error, null);
    recastBtn.disabled = true;
    try {
      const bytes = crypto.getRandomValues(new Uint8Array(12));
      const seed = `cast-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
      project = await api('PUT', `/projects/${encodeURIComponent(id)}`,
        { settings: { ...(project.settings || {}), seed } });
      announce('Re-cast: the next render uses the new cast');
    } catch (err) {
      setError(error, err);
    } finally {
      recastBtn.disabled = false;
    }
  });
}
