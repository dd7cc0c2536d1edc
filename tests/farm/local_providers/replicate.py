#!/usr/bin/env python3
"""A local Replicate-style predictions API for tests (standard library only).

Follows https://replicate.com/docs/reference/http strictly for what the node uses:
  POST /v1/predictions                {"version": "owner/name[:ver]"|"<64 hex>", "input": {...},
                                       "webhook"?, "webhook_events_filter"?, "stream"?}
                                      -> 201 prediction
  GET  /v1/predictions/{id}           -> 200 prediction | 404
  POST /v1/predictions/{id}/cancel    -> 200 prediction
  GET  /files/{name}                  the outputs (no auth, like replicate.delivery)
Auth: "Authorization: Bearer KEY" (or "Token KEY"); otherwise 401.
Errors are problem details: {"title", "detail", "status"} (+ "invalid_fields" on 422).
Prediction: {"id","model","version","input","logs","output","error","status",
             "created_at","started_at","completed_at","urls":{"get","cancel","stream"},
             "metrics":{"predict_time"}}; status starting|processing|succeeded|failed|canceled.
Controls: see provider_common.py ("credit": false -> 402 on create, "expire": true -> 404).
"""

import datetime
import re
import threading
import time

from provider_common import ProviderHandler, new_job, run_job, serve

VERSION_RE = re.compile(r'^([a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*(:[0-9a-f]{64})?|[0-9a-f]{64})$')
TITLES = {400: 'Bad request', 401: 'Unauthenticated', 402: 'Insufficient credit',
          403: 'Forbidden', 404: 'Not found', 422: 'Input validation failed',
          429: 'Too many requests', 500: 'Internal server error', 503: 'Service unavailable'}


def iso(t):
    if t is None:
        return None
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat().replace('+00:00', 'Z')


class Handler(ProviderHandler):
    vendor = 'local-replicate'

    def error_body(self, status, message):
        return {'title': TITLES.get(status, 'Error'), 'detail': message, 'status': status}

    def problem(self, status, detail, **extra):
        body = self.error_body(status, detail)
        body.update(extra)
        headers = {'Retry-After': '1'} if status == 429 else None
        self.send(status, body, 'application/problem+json', headers)

    def prediction(self, job):
        base = 'http://%s' % self.headers.get('Host', '127.0.0.1')
        out = None
        if job['status'] == 'succeeded':
            names = [base + '/files/' + n for n in job['outputs']]
            out = names[0] if len(names) == 1 else names
        metrics = {}
        if job['finished'] and job['started']:
            metrics['predict_time'] = round(job['finished'] - job['started'], 3)
        return {'id': job['id'], 'model': job['model'], 'version': job['version'],
                'input': job['input'], 'logs': '', 'output': out, 'error': job.get('error'),
                'status': job['status'], 'source': 'api', 'data_removed': False,
                'created_at': iso(job['created']), 'started_at': iso(job['started']),
                'completed_at': iso(job['finished']),
                'urls': {'get': base + '/v1/predictions/' + job['id'],
                         'cancel': base + '/v1/predictions/' + job['id'] + '/cancel',
                         'stream': base + '/v1/predictions/' + job['id'] + '/stream'},
                'metrics': metrics}

    def validate_create(self, doc):
        """The invalid fields of a create request (Replicate answers 422)."""
        bad = []
        if not isinstance(doc, dict):
            return [{'field': '(root)', 'description': 'the body must be a JSON object'}]
        allowed = {'version', 'input', 'webhook', 'webhook_events_filter', 'stream'}
        for k in doc:
            if k not in allowed:
                bad.append({'field': k, 'description': 'Additional property %s is not allowed' % k})
        v = doc.get('version')
        if not isinstance(v, str) or not VERSION_RE.match(v):
            bad.append({'field': 'version', 'description': 'version must be owner/name[:id] or an id'})
        inp = doc.get('input')
        if not isinstance(inp, dict):
            bad.append({'field': 'input', 'description': 'input is required and must be an object'})
            return bad
        if not isinstance(inp.get('prompt'), str) or not inp['prompt']:
            bad.append({'field': 'input.prompt', 'description': 'prompt is required'})
        for k in ('seed', 'width', 'height', 'num_frames', 'fps'):
            if k in inp and (not isinstance(inp[k], int) or isinstance(inp[k], bool) or inp[k] < 0):
                bad.append({'field': 'input.' + k, 'description': '%s must be an integer >= 0' % k})
        for k in ('width', 'height'):
            if isinstance(inp.get(k), int) and not 16 <= inp[k] <= 4096:
                bad.append({'field': 'input.' + k, 'description': '%s must be 16..4096' % k})
        img = inp.get('image')
        if img is not None and not (isinstance(img, str) and
                                    (img.startswith('data:image/') and ';base64,' in img or
                                     img.startswith('http://') or img.startswith('https://'))):
            bad.append({'field': 'input.image', 'description': 'image must be a URL or a data URI'})
        return bad

    def route(self, path, query):
        st = self.state
        if path.startswith('/files/') and self.command == 'GET':
            with st.lock:
                f = st.files.get(path[len('/files/'):])
            if not f:
                self.problem(404, 'Not found.')
                return
            self.send(200, f[1], f[0])
            return
        if not path.startswith('/v1/'):
            self.problem(404, 'Not found.')
            return
        if not self.authorized():
            self.problem(401, 'You did not pass a valid authentication token')
            return
        m = re.match(r'^/v1/predictions/([A-Za-z0-9-]+)(/cancel)?$', path)
        if path == '/v1/predictions' and self.command == 'POST':
            self.create()
        elif m and self.command == 'GET' and not m.group(2):
            with st.lock:
                job = None if st.settings['expire'] else st.jobs.get(m.group(1))
                body = self.prediction(job) if job else None
            if body is None:
                self.problem(404, 'Not found.')
            else:
                self.send(200, body)
        elif m and self.command == 'POST' and m.group(2):
            with st.lock:
                job = None if st.settings['expire'] else st.jobs.get(m.group(1))
                if job and job['status'] in ('starting', 'processing'):
                    job['cancel'] = True
                    job['status'] = 'canceled'
                    job['finished'] = time.time()
                    st.count('cancelled')
                body = self.prediction(job) if job else None
            if body is None:
                self.problem(404, 'Not found.')
            else:
                self.send(200, body)
        else:
            self.problem(405 if m or path == '/v1/predictions' else 404, 'Not found.')

    def create(self):
        st = self.state
        if 'application/json' not in self.headers.get('Content-Type', ''):
            self.problem(415, 'Content-Type must be application/json')
            return
        doc = self.json_body()
        bad = self.validate_create(doc)
        if bad:
            self.problem(422, 'Input validation failed', invalid_fields=bad)
            return
        with st.lock:
            if not st.settings['credit']:
                self.problem(402, 'You have insufficient credit to run this model. Go to '
                             'https://replicate.com/account/billing#billing to purchase credit.')
                return
            version = doc['version']
            job = new_job(st, model=version.split(':')[0] if '/' in version else '',
                          version=version, input=doc['input'], status='starting', outputs=[])
            st.count('created')
            body = self.prediction(job)

        def finish(j, outcome):
            j['finished'] = time.time()
            if outcome == 'succeeded':
                inp = j['input']
                j['outputs'] = self.make_outputs(j['id'], inp.get('width', 640),
                                                 inp.get('height', 360), inp.get('seed', 0))
                j['status'] = 'succeeded'
            elif outcome == 'failed':
                j['status'] = 'failed'
                j['error'] = 'CUDA out of memory (injected failure mid-prediction)'
            else:
                j['status'] = 'canceled'

        def started():
            run_job(st, job['id'], finish)

        # 'processing' once the runner marks it running.
        orig = job

        def watch():
            while True:
                time.sleep(0.02)
                with st.lock:
                    if orig['state'] == 'running' and orig['status'] == 'starting':
                        orig['status'] = 'processing'
                    if orig['status'] not in ('starting', 'processing'):
                        return
        threading.Thread(target=started, daemon=True).start()
        threading.Thread(target=watch, daemon=True).start()
        self.send(201, body, headers={'Location': body['urls']['get']})


if __name__ == '__main__':
    serve(Handler)
