"""Shared parts of the local generation providers used by the farm tests.

Standard library only. Each server (comfyui.py, replicate.py, runpod.py) is a
ThreadingHTTPServer whose handler derives from ProviderHandler, which adds:

  * a request log (JSON lines, --log FILE): method, path, status, whether an
    Authorization header came (its value is never written), body bytes;
  * test controls, unauthenticated, under /__control:
      GET  /__control/stats      counters and the jobs with their states
      POST /__control            {"run_s": 0.5, "queue_s": 0.1, "output": "png"|"pngs"|"mp4",
                                  "fail_jobs": N (fail mid-job), "cancel_jobs": N (the
                                  provider cancels mid-job), "timeout_jobs": N (runpod:
                                  TIMED_OUT), "credit": false (402 on create),
                                  "expire": true (jobs forgotten: 404)}
      POST /__control/faults     {"method": "GET", "path": "/prefix", "status": 503,
                                  "count": 2, "drop": false} answers the next COUNT
                                  matching requests with STATUS (the vendor's error shape),
                                  or drops the connection without an answer
      POST /__control/reset      forgets jobs, faults and settings
  * small generated PNGs (zlib + struct), and an MP4 given with --mp4 FILE.

Jobs run on their own threads and move through the vendor's states on a
timer; a cancel or a control stops them midway.
"""

import argparse
import json
import os
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 32 << 20


def png_bytes(width, height, seed=0):
    """An RGB PNG: a gradient tinted by the seed, so shots differ visibly."""
    width = max(1, min(int(width), 4096))
    height = max(1, min(int(height), 4096))
    r0, g0, b0 = (seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        line = bytearray(width * 3)
        for x in range(width):
            line[3 * x] = (r0 + x * 255 // max(1, width - 1)) % 256
            line[3 * x + 1] = (g0 + y * 255 // max(1, height - 1)) % 256
            line[3 * x + 2] = b0
        rows += line

    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xffffffff)

    return (b'\x89PNG\r\n\x1a\n' +
            chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(bytes(rows), 6)) + chunk(b'IEND', b''))


def preview_size(width, height):
    """Models answer at their own size; keep test pictures small (<= 320 wide)."""
    w, h = max(16, int(width)), max(16, int(height))
    if w > 320:
        h, w = max(16, h * 320 // w), 320
    return w, h


class State:
    """Everything a server holds; one lock guards it."""

    def __init__(self, args):
        self.lock = threading.RLock()
        self.args = args
        self.reset()

    def reset(self):
        self.jobs = {}
        self.files = {}  # name -> (content type, bytes)
        self.faults = []
        self.settings = {'run_s': 0.3, 'queue_s': 0.1, 'output': 'png', 'fail_jobs': 0,
                         'cancel_jobs': 0, 'credit': True, 'expire': False}
        self.counters = {}

    def count(self, key):
        self.counters[key] = self.counters.get(key, 0) + 1

    def take_fault(self, method, path):
        for f in self.faults:
            if f['count'] > 0 and f.get('method', method) == method and \
                    path.startswith(f.get('path', '/')):
                f['count'] -= 1
                return f
        return None

    def take_flag(self, name):
        """Consumes one of the 'fail_jobs'/'cancel_jobs' tokens."""
        if self.settings.get(name, 0) > 0:
            self.settings[name] -= 1
            return True
        return False


class ProviderHandler(BaseHTTPRequestHandler):
    """Routing, logging, controls and faults; subclasses implement route()."""

    protocol_version = 'HTTP/1.1'
    server_version = 'local-provider/1'
    state = None  # set by serve()
    vendor = 'provider'

    def log_message(self, fmt, *args):  # the request log replaces the default one
        pass

    def write_log(self, status):
        if not self.state.args.log:
            return
        entry = {'t': round(time.time(), 3), 'method': self.command, 'path': self.path,
                 'status': status, 'authorization': 'Authorization' in self.headers,
                 'content_type': self.headers.get('Content-Type', ''),
                 'body_bytes': len(getattr(self, 'body', b''))}
        with self.state.lock:
            with open(self.state.args.log, 'a') as f:
                f.write(json.dumps(entry) + '\n')

    def send(self, status, body=b'', content_type='application/json', headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.write_log(status)  # before answering: a client that has the answer finds the line
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def read_body(self):
        length = self.headers.get('Content-Length')
        if length is None:
            self.body = b''
            return
        n = int(length)
        if n > MAX_BODY:
            raise ValueError('body too large')
        self.body = self.rfile.read(n)

    def json_body(self):
        """The body as a JSON object, or None."""
        try:
            doc = json.loads(self.body.decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            return None
        return doc

    def authorized(self):
        key = self.state.args.api_key
        if not key:
            return True
        got = self.headers.get('Authorization', '')
        return got in ('Bearer ' + key, 'Token ' + key, key)

    def error_body(self, status, message):
        """The vendor's error shape; subclasses override."""
        return {'error': message}

    def handle_any(self):
        try:
            self.read_body()
        except ValueError:
            self.send(413, self.error_body(413, 'request body too large'))
            return
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        if path.startswith('/__control'):
            self.control(path)
            return
        with self.state.lock:
            self.state.count(self.command + ' ' + path.split('/')[1] if '/' in path else path)
            fault = self.state.take_fault(self.command, path)
        if fault:
            if fault.get('drop'):
                self.write_log(0)
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send(fault['status'], self.error_body(fault['status'], 'injected fault'))
            return
        self.route(path, query)

    def control(self, path):
        st = self.state
        if self.command == 'GET' and path == '/__control/stats':
            with st.lock:
                jobs = {k: {'status': j['status'], 'created': j['created']}
                        for k, j in st.jobs.items()}
                self.send(200, {'counters': st.counters, 'jobs': jobs, 'settings': st.settings})
            return
        doc = self.json_body() if self.body else {}
        if self.command != 'POST' or not isinstance(doc, dict):
            self.send(400, {'error': 'control takes POST with a JSON object'})
            return
        with st.lock:
            if path == '/__control':
                st.settings.update(doc)
            elif path == '/__control/faults':
                doc.setdefault('count', 1)
                doc.setdefault('status', 500)
                st.faults.append(doc)
            elif path == '/__control/reset':
                st.reset()
            else:
                self.send(404, {'error': 'no such control'})
                return
        self.send(200, {'ok': True})

    def route(self, path, query):
        raise NotImplementedError

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def do_PATCH(self):
        self.handle_any()

    # ----------------------------------------------------------------- outputs

    def make_outputs(self, job_id, width, height, seed, ext_prefix='output'):
        """Stores the job's results as files; returns their names."""
        st = self.state
        mode = st.settings.get('output', 'png')
        names = []
        if mode == 'mp4' and st.args.mp4:
            with open(st.args.mp4, 'rb') as f:
                data = f.read()
            name = '%s_%s.mp4' % (ext_prefix, job_id[:8])
            st.files[name] = ('video/mp4', data)
            return [name]
        count = 3 if mode == 'pngs' else 1
        w, h = preview_size(width, height)
        for i in range(count):
            name = '%s_%s_%05d_.png' % (ext_prefix, job_id[:8], i + 1)
            st.files[name] = ('image/png', png_bytes(w, h, int(seed) + i * 40))
            names.append(name)
        return names


def run_job(state, job_id, on_finish):
    """Moves a job through queued → running → finished on a timer.

    `on_finish(job, outcome)` is called under the lock with 'succeeded',
    'failed' or 'cancelled' (the provider's own cancel)."""
    with state.lock:
        job = state.jobs[job_id]
        queue_s, run_s = float(state.settings['queue_s']), float(state.settings['run_s'])
        fail = state.take_flag('fail_jobs')
        provider_cancel = state.take_flag('cancel_jobs')
    deadline = time.time() + queue_s
    while time.time() < deadline:
        time.sleep(0.02)
        with state.lock:
            if job['cancel']:
                return
    with state.lock:
        if job['cancel']:
            return
        job['state'] = 'running'
        job['started'] = time.time()
    end = time.time() + run_s
    half = time.time() + run_s / 2
    while time.time() < end:
        time.sleep(0.02)
        with state.lock:
            if job['cancel']:
                return
            if (fail or provider_cancel) and time.time() >= half:
                on_finish(job, 'failed' if fail else 'cancelled')
                return
            job['progress'] = min(99, int(100 * (1 - (end - time.time()) / max(run_s, 0.001))))
    with state.lock:
        if not job['cancel']:
            on_finish(job, 'succeeded')


def new_job(state, **fields):
    job_id = fields.pop('id', None) or str(uuid.uuid4())
    job = {'id': job_id, 'state': 'queued', 'cancel': False, 'created': time.time(),
           'started': None, 'finished': None, 'progress': 0, 'status': 'queued'}
    job.update(fields)
    state.jobs[job_id] = job
    return job


def serve(handler_class, extra_args=None):
    p = argparse.ArgumentParser(description=handler_class.vendor)
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--port-file', help='written with the port once listening')
    p.add_argument('--api-key', default='', help='the key clients must send (empty: none)')
    p.add_argument('--log', default='', help='request log, JSON lines')
    p.add_argument('--mp4', default='', help='an MP4 served when output is "mp4"')
    for args, kwargs in (extra_args or []):
        p.add_argument(*args, **kwargs)
    args = p.parse_args()
    handler_class.state = State(args)
    server = ThreadingHTTPServer(('127.0.0.1', args.port), handler_class)
    server.daemon_threads = True
    if args.port_file:
        tmp = args.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write(str(server.server_address[1]))
        os.rename(tmp, args.port_file)
    print('%s listening on %d' % (handler_class.vendor, server.server_address[1]), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
