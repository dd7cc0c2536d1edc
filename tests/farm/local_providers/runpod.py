#!/usr/bin/env python3
"""A local RunPod serverless endpoint for tests (standard library only).

Follows https://docs.runpod.io/serverless/endpoints/operations strictly for what
the node uses:
  POST /v2/{endpoint_id}/run            {"input": {...}, "webhook"?, "policy"?: {"executionTimeout": ms
                                         (5000..604800000), "ttl": ms, "lowPriority": bool},
                                         "s3Config"?} -> 200 {"id", "status": "IN_QUEUE"}
  GET  /v2/{endpoint_id}/status/{id}    -> 200 {"id","status","delayTime","executionTime",
                                         "workerId","output"?,"error"?} | 404
  POST /v2/{endpoint_id}/cancel/{id}    -> 200 {"id","status":"CANCELLED"}
  GET  /v2/{endpoint_id}/health         -> 200 {"jobs": {...}, "workers": {...}}
  GET  /files/{name}                    s3_url outputs (no auth, like a presigned URL)
Statuses: IN_QUEUE, IN_PROGRESS, COMPLETED, FAILED, CANCELLED, TIMED_OUT (a job running
longer than policy.executionTimeout). Auth: "Authorization: Bearer KEY" (or the bare key).
Errors: {"error": "..."} with 400/401/404. The worker's output is
{"images": [{"filename", "type": "base64"|"s3_url", "data"}]} (--output-type).
Controls: see provider_common.py.
"""

import base64
import re
import threading
import time

from provider_common import ProviderHandler, new_job, run_job, serve


class Handler(ProviderHandler):
    vendor = 'local-runpod'

    def error_body(self, status, message):
        return {'error': message}

    def status_body(self, job):
        body = {'id': job['id'], 'status': job['status'],
                'delayTime': int(((job['started'] or time.time()) - job['created']) * 1000),
                'workerId': 'local-worker-1'}
        if job['started']:
            body['executionTime'] = int(((job['finished'] or time.time()) - job['started']) * 1000)
        if job['status'] == 'COMPLETED':
            body['output'] = job['output']
        if job.get('error'):
            body['error'] = job['error']
        return body

    def route(self, path, query):
        st = self.state
        if path.startswith('/files/') and self.command == 'GET':
            with st.lock:
                f = st.files.get(path[len('/files/'):])
            if not f:
                self.send(404, {'error': 'not found'})
            else:
                self.send(200, f[1], f[0])
            return
        m = re.match(r'^/v2/([A-Za-z0-9_-]+)/(run|runsync|status|cancel|health)(?:/([A-Za-z0-9_-]+))?$',
                     path)
        if not m:
            self.send(404, {'error': 'not found'})
            return
        if not self.authorized():
            self.send(401, {'error': 'Unauthorized'})
            return
        endpoint, op, job_id = m.group(1), m.group(2), m.group(3)
        if endpoint != st.args.endpoint:
            self.send(404, {'error': 'endpoint %s not found' % endpoint})
            return
        if op == 'run' and self.command == 'POST' and job_id is None:
            self.run()
        elif op == 'status' and self.command == 'GET' and job_id:
            with st.lock:
                job = None if st.settings['expire'] else st.jobs.get(job_id)
                self.timeout_check(job)
                body = self.status_body(job) if job else None
            self.send(200, body) if body else self.send(404, {'error': 'request does not exist'})
        elif op == 'cancel' and self.command == 'POST' and job_id:
            with st.lock:
                job = None if st.settings['expire'] else st.jobs.get(job_id)
                if job and job['status'] in ('IN_QUEUE', 'IN_PROGRESS'):
                    job['cancel'] = True
                    job['status'] = 'CANCELLED'
                    job['finished'] = time.time()
                    st.count('cancelled')
            if job:
                self.send(200, {'id': job_id, 'status': job['status']})
            else:
                self.send(404, {'error': 'request does not exist'})
        elif op == 'health' and self.command == 'GET':
            with st.lock:
                states = [j['status'] for j in st.jobs.values()]
            self.send(200, {'jobs': {'completed': states.count('COMPLETED'),
                                     'failed': states.count('FAILED'),
                                     'inProgress': states.count('IN_PROGRESS'),
                                     'inQueue': states.count('IN_QUEUE'), 'retried': 0},
                            'workers': {'idle': 1, 'running': states.count('IN_PROGRESS')}})
        else:
            self.send(405 if op != 'runsync' else 501, {'error': 'method not allowed'})

    def timeout_check(self, job):
        if job and job['status'] == 'IN_PROGRESS' and \
                time.time() - job['started'] > job['timeout_ms'] / 1000.0:
            job['cancel'] = True
            job['status'] = 'TIMED_OUT'
            job['finished'] = time.time()

    def run(self):
        st = self.state
        if 'application/json' not in self.headers.get('Content-Type', ''):
            self.send(400, {'error': 'Content-Type must be application/json'})
            return
        doc = self.json_body()
        if not isinstance(doc, dict) or not isinstance(doc.get('input'), dict) or not doc['input']:
            self.send(400, {'error': 'request body must be a JSON object with a non-empty "input"'})
            return
        extra = set(doc) - {'input', 'webhook', 'policy', 's3Config'}
        if extra:
            self.send(400, {'error': 'unknown fields: %s' % ', '.join(sorted(extra))})
            return
        policy = doc.get('policy', {})
        if not isinstance(policy, dict) or set(policy) - {'executionTimeout', 'ttl', 'lowPriority'}:
            self.send(400, {'error': 'policy takes executionTimeout, ttl, lowPriority'})
            return
        timeout = policy.get('executionTimeout', 600000)
        if not isinstance(timeout, int) or not 5000 <= timeout <= 604800000:
            self.send(400, {'error': 'policy.executionTimeout must be 5000..604800000 ms'})
            return
        inp = doc['input']
        if not isinstance(inp.get('prompt'), str) or not inp['prompt']:
            self.send(400, {'error': 'input.prompt is required by this worker'})
            return
        if 'image_base64' in inp:
            try:
                base64.b64decode(inp['image_base64'], validate=True)
            except (ValueError, TypeError):
                self.send(400, {'error': 'input.image_base64 is not base64'})
                return
        with st.lock:
            # "timeout_jobs": N makes the next N jobs outlive their execution timeout.
            job = new_job(st, id=('local-' + str(time.time_ns())[-12:] + '-' +
                                  str(len(st.jobs))), status='IN_QUEUE', input=inp,
                          timeout_ms=1 if st.take_flag('timeout_jobs') else timeout)
            st.count('created')

        def finish(j, outcome):
            j['finished'] = time.time()
            if j['status'] not in ('IN_QUEUE', 'IN_PROGRESS'):
                return
            if outcome == 'succeeded':
                names = self.make_outputs(j['id'], inp.get('width', 640), inp.get('height', 360),
                                          inp.get('seed', 0))
                images = []
                for n in names:
                    ctype, data = st.files[n]
                    if st.args.output_type == 's3_url':
                        images.append({'filename': n, 'type': 's3_url',
                                       'data': 'http://%s/files/%s' % (self.host, n)})
                    else:
                        images.append({'filename': n, 'type': 'base64',
                                       'data': base64.b64encode(data).decode()})
                j['output'] = {'images': images}
                j['status'] = 'COMPLETED'
            elif outcome == 'failed':
                j['status'] = 'FAILED'
                j['error'] = 'worker raised: RuntimeError: injected failure mid-job'
            else:
                j['status'] = 'CANCELLED'

        self.host = self.headers.get('Host', '127.0.0.1')

        def watch():
            while True:
                time.sleep(0.02)
                with st.lock:
                    if job['state'] == 'running' and job['status'] == 'IN_QUEUE':
                        job['status'] = 'IN_PROGRESS'
                    self.timeout_check(job)
                    if job['status'] not in ('IN_QUEUE', 'IN_PROGRESS'):
                        return
        threading.Thread(target=run_job, args=(st, job['id'], finish), daemon=True).start()
        threading.Thread(target=watch, daemon=True).start()
        self.send(200, {'id': job['id'], 'status': 'IN_QUEUE'})


if __name__ == '__main__':
    serve(Handler, [(('--endpoint',), {'default': 'local-endpoint'}),
                    (('--output-type',), {'default': 'base64', 'choices': ['base64', 's3_url']})])
