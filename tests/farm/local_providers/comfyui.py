#!/usr/bin/env python3
"""A local ComfyUI server for tests (standard library only).

Follows ComfyUI's server.py for what the node uses:
  POST /prompt          {"prompt": {NODE_ID: {"class_type", "inputs"}}, "client_id"?,
                         "extra_data"?, "front"?, "number"?}
                        -> 200 {"prompt_id", "number", "node_errors": {}}
                        -> 400 {"error": {"type","message","details","extra_info"},
                                "node_errors": {NODE_ID: {"errors": [...], "dependent_outputs",
                                                          "class_type"}}}
  GET  /history/{id}    {} until done, then {id: {"prompt", "outputs", "status", "meta"}}
  GET  /queue           {"queue_running": [[number, id, prompt, extra, outputs]], "queue_pending": [...]}
  POST /queue           {"delete": [ids]} | {"clear": true}
  POST /interrupt       {"prompt_id"?}: stops the running prompt (only that one when given)
  GET  /view            ?filename=&subfolder=&type=output|input|temp
  POST /upload/image    multipart: image, overwrite, type, subfolder -> {"name","subfolder","type"}
  GET  /system_stats, /object_info (the node classes this server knows)
One prompt runs at a time, in queue order, like ComfyUI. Outputs: SaveImage
writes "images"; with output "mp4" the SaveImage node writes a video under
"gifs" (as VideoHelperSuite's VHS_VideoCombine does). A failed job reports
status_str "error" with an execution_error message. Controls: provider_common.py.
"""

import email.parser
import email.policy
import json
import re
import threading
import time
import uuid

from provider_common import ProviderHandler, serve

# class_type -> {input: kind}; kind: "INT", "FLOAT", "STRING", "LINK", "IMAGE_FILE", "CHOICE:a|b"
NODE_CLASSES = {
    'CheckpointLoaderSimple': {'ckpt_name': 'CHOICE:sd_xl_base_1.0.safetensors|v1-5-pruned.safetensors'},
    'CLIPTextEncode': {'text': 'STRING', 'clip': 'LINK'},
    'EmptyLatentImage': {'width': 'INT', 'height': 'INT', 'batch_size': 'INT'},
    'KSampler': {'seed': 'INT', 'steps': 'INT', 'cfg': 'FLOAT',
                 'sampler_name': 'CHOICE:euler|euler_ancestral|dpmpp_2m',
                 'scheduler': 'CHOICE:normal|karras', 'denoise': 'FLOAT', 'model': 'LINK',
                 'positive': 'LINK', 'negative': 'LINK', 'latent_image': 'LINK'},
    'VAEDecode': {'samples': 'LINK', 'vae': 'LINK'},
    'LoadImage': {'image': 'IMAGE_FILE'},
    'IPAdapterApply': {'image': 'LINK', 'model': 'LINK', 'weight': 'FLOAT'},
    'SaveImage': {'images': 'LINK', 'filename_prefix': 'STRING'},
}
OUTPUT_NODES = {'SaveImage'}


class Handler(ProviderHandler):
    vendor = 'local-comfyui'

    def error_body(self, status, message):
        return {'error': {'type': 'server_error', 'message': message, 'details': '',
                          'extra_info': {}}, 'node_errors': {}}

    # -------------------------------------------------------------- validation

    def validate(self, prompt):
        """(error, node_errors) as ComfyUI's validate_prompt answers, or None."""
        def err(kind, message, details=''):
            return ({'type': kind, 'message': message, 'details': details, 'extra_info': {}}, {})
        if not isinstance(prompt, dict) or not prompt:
            return err('invalid_prompt', 'Cannot execute because the prompt is not an object')
        outputs = []
        for nid, node in prompt.items():
            if not isinstance(node, dict) or 'class_type' not in node:
                return err('invalid_prompt', 'Cannot execute because a node is missing the '
                           'class_type property.', "Node ID '#%s'" % nid)
            if node['class_type'] not in NODE_CLASSES:
                return err('invalid_prompt', 'Cannot execute because node %s does not exist.'
                           % node['class_type'], "Node ID '#%s'" % nid)
            if node['class_type'] in OUTPUT_NODES:
                outputs.append(nid)
        if not outputs:
            return err('prompt_no_outputs', 'Prompt has no outputs')
        node_errors = {}
        for nid, node in prompt.items():
            errors = []
            inputs = node.get('inputs', {})
            if not isinstance(inputs, dict):
                inputs = {}
            for name, kind in NODE_CLASSES[node['class_type']].items():
                if name not in inputs:
                    errors.append({'type': 'required_input_missing', 'message':
                                   'Required input is missing', 'details': name,
                                   'extra_info': {'input_name': name}})
                    continue
                v = inputs[name]
                ok = True
                if kind == 'LINK' or isinstance(v, list):
                    ok = (isinstance(v, list) and len(v) == 2 and str(v[0]) in prompt and
                          isinstance(v[1], int))
                elif kind == 'INT':
                    ok = isinstance(v, int) and not isinstance(v, bool)
                elif kind == 'FLOAT':
                    ok = isinstance(v, (int, float)) and not isinstance(v, bool)
                elif kind == 'STRING':
                    ok = isinstance(v, str) and '{{' not in v
                elif kind == 'IMAGE_FILE':
                    with self.state.lock:
                        ok = isinstance(v, str) and ('input', v) in self.state.uploads
                    if not ok:
                        errors.append({'type': 'value_not_in_list', 'message': 'Value not in list',
                                       'details': "%s: '%s' not in [uploaded images]" % (name, v),
                                       'extra_info': {'input_name': name}})
                        continue
                elif kind.startswith('CHOICE:'):
                    ok = v in kind[7:].split('|')
                    if not ok:
                        errors.append({'type': 'value_not_in_list', 'message': 'Value not in list',
                                       'details': "%s: '%s' not in %s" % (name, v, kind[7:].split('|')),
                                       'extra_info': {'input_name': name}})
                        continue
                if not ok:
                    errors.append({'type': 'invalid_input_type', 'message':
                                   'Failed to convert an input value to a %s value' % kind,
                                   'details': '%s, %r' % (name, v), 'extra_info': {'input_name': name}})
            if errors:
                node_errors[nid] = {'errors': errors, 'dependent_outputs': outputs,
                                    'class_type': node['class_type']}
        if node_errors:
            return ({'type': 'prompt_outputs_failed_validation',
                     'message': 'Prompt outputs failed validation', 'details': '',
                     'extra_info': {}}, node_errors)
        return None

    # ------------------------------------------------------------------ routes

    def route(self, path, query):
        st = self.state
        if path == '/prompt' and self.command == 'POST':
            self.post_prompt()
        elif path == '/prompt' and self.command == 'GET':
            with st.lock:
                self.send(200, {'exec_info': {'queue_remaining': len(st.queue) + (1 if st.running else 0)}})
        elif path.startswith('/history/') and self.command == 'GET':
            pid = path[len('/history/'):]
            with st.lock:
                entry = st.history.get(pid)
            self.send(200, {pid: entry} if entry else {})
        elif path == '/queue' and self.command == 'GET':
            with st.lock:
                running = [st.jobs[st.running]['item']] if st.running else []
                pending = [st.jobs[p]['item'] for p in st.queue]
            self.send(200, {'queue_running': running, 'queue_pending': pending})
        elif path == '/queue' and self.command == 'POST':
            doc = self.json_body()
            if not isinstance(doc, dict):
                self.send(400, b'', 'text/plain')
                return
            with st.lock:
                if doc.get('clear'):
                    st.queue.clear()
                for pid in doc.get('delete', []) if isinstance(doc.get('delete'), list) else []:
                    if pid in st.queue:
                        st.queue.remove(pid)
                        st.count('deleted')
            self.send(200, b'', 'text/plain')
        elif path == '/interrupt' and self.command == 'POST':
            doc = self.json_body() if self.body else {}
            with st.lock:
                target = doc.get('prompt_id') if isinstance(doc, dict) else None
                if st.running and (target is None or target == st.running):
                    st.jobs[st.running]['cancel'] = True
                    st.count('interrupted')
            self.send(200, b'', 'text/plain')
        elif path == '/view' and self.command == 'GET':
            name = query.get('filename', [''])[0]
            kind = query.get('type', ['output'])[0]
            sub = query.get('subfolder', [''])[0]
            if not name or '..' in name or '..' in sub or name.startswith('/') or \
                    kind not in ('output', 'input', 'temp'):
                self.send(400, b'', 'text/plain')
                return
            with st.lock:
                f = st.files.get(name) if kind == 'output' and not sub else \
                    st.uploads.get((kind, (sub + '/' if sub else '') + name))
            if not f:
                self.send(404, b'', 'text/plain')
            else:
                self.send(200, f[1], f[0])
        elif path == '/upload/image' and self.command == 'POST':
            self.upload()
        elif path == '/system_stats' and self.command == 'GET':
            self.send(200, {'system': {'os': 'posix', 'comfyui_version': 'local-test',
                                       'python_version': '3'}, 'devices': []})
        elif path == '/object_info' and self.command == 'GET':
            self.send(200, {k: {'input': {'required': v}, 'output_node': k in OUTPUT_NODES}
                            for k, v in NODE_CLASSES.items()})
        else:
            self.send(404, b'404: Not Found', 'text/plain')

    def post_prompt(self):
        st = self.state
        doc = self.json_body()
        if not isinstance(doc, dict) or 'prompt' not in doc:
            self.send(400, {'error': {'type': 'no_prompt', 'message': 'No prompt provided',
                                      'details': 'No prompt provided', 'extra_info': {}},
                            'node_errors': {}})
            return
        bad = self.validate(doc['prompt'])
        if bad:
            with st.lock:
                st.count('rejected')
            self.send(400, {'error': bad[0], 'node_errors': bad[1]})
            return
        pid = str(uuid.uuid4())
        with st.lock:
            st.number += 1
            outputs = [k for k, v in doc['prompt'].items() if v['class_type'] in OUTPUT_NODES]
            extra = {'client_id': doc.get('client_id', '')}
            st.jobs[pid] = {'id': pid, 'prompt': doc['prompt'], 'cancel': False,
                            'item': [st.number, pid, doc['prompt'], extra, outputs],
                            'status': 'queued', 'created': time.time()}
            st.queue.append(pid)
            st.count('created')
            st.wake.notify()
            number = st.number
        self.send(200, {'prompt_id': pid, 'number': number, 'node_errors': {}})

    def upload(self):
        st = self.state
        ctype = self.headers.get('Content-Type', '')
        if not ctype.startswith('multipart/form-data'):
            self.send(400, b'', 'text/plain')
            return
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b'Content-Type: ' + ctype.encode() + b'\r\n\r\n' + self.body)
        fields, image = {}, None
        for part in msg.iter_parts():
            name = part.get_param('name', header='content-disposition')
            if name == 'image' and part.get_filename():
                image = (part.get_filename(), part.get_payload(decode=True))
            elif name:
                fields[name] = part.get_payload(decode=True).decode()
        if not image or not re.match(r'^[A-Za-z0-9._-]+$', image[0]):
            self.send(400, b'', 'text/plain')
            return
        kind = fields.get('type', 'input')
        sub = fields.get('subfolder', '')
        key = (kind, (sub + '/' if sub else '') + image[0])
        with st.lock:
            st.uploads[key] = ('image/png', image[1])
            st.count('uploads')
        self.send(200, {'name': image[0], 'subfolder': sub, 'type': kind})


def worker(state):
    """Runs prompts one at a time, like ComfyUI's single execution thread."""
    while True:
        with state.lock:
            while not state.queue:
                state.wake.wait()
            pid = state.queue.pop(0)
            job = state.jobs[pid]
            state.running = pid
            run_s = float(state.settings['run_s'])
            fail = state.take_flag('fail_jobs')
            cancel = state.take_flag('cancel_jobs')
            started = time.time()
        outcome = 'success'
        while time.time() - started < run_s:
            time.sleep(0.02)
            with state.lock:
                if job['cancel']:
                    outcome = 'interrupted'
                    break
                if (fail or cancel) and time.time() - started >= run_s / 2:
                    outcome = 'error' if fail else 'interrupted'
                    break
        with state.lock:
            state.running = None
            msgs = [['execution_start', {'prompt_id': pid, 'timestamp': int(started * 1000)}]]
            outputs = {}
            if outcome == 'success':
                p = job['prompt']
                seed, width, height = 0, 512, 512
                for node in p.values():
                    if node['class_type'] == 'KSampler':
                        seed = node['inputs']['seed']
                    if node['class_type'] == 'EmptyLatentImage':
                        width, height = node['inputs']['width'], node['inputs']['height']
                save = [k for k, v in p.items() if v['class_type'] in OUTPUT_NODES][0]
                prefix = p[save]['inputs'].get('filename_prefix', 'ComfyUI')
                prefix = re.sub(r'[^A-Za-z0-9_-]', '_', prefix)[:40] or 'ComfyUI'
                names = HandlerProxy.make_outputs(state, pid, width, height, seed, prefix)
                kind = 'gifs' if names[0].endswith('.mp4') else 'images'
                outputs[save] = {kind: [{'filename': n, 'subfolder': '', 'type': 'output'}
                                        for n in names]}
                msgs.append(['execution_success', {'prompt_id': pid, 'timestamp': int(time.time() * 1000)}])
            elif outcome == 'error':
                msgs.append(['execution_error', {'prompt_id': pid, 'node_id': '3',
                                                 'node_type': 'KSampler',
                                                 'exception_message': 'CUDA out of memory (injected)',
                                                 'exception_type': 'torch.OutOfMemoryError',
                                                 'traceback': [], 'current_inputs': {},
                                                 'current_outputs': {}}])
            else:
                msgs.append(['execution_interrupted', {'prompt_id': pid, 'node_id': '3',
                                                       'node_type': 'KSampler', 'executed': []}])
            job['status'] = outcome
            state.history[pid] = {
                'prompt': job['item'], 'outputs': outputs,
                'status': {'status_str': 'success' if outcome == 'success' else 'error',
                           'completed': outcome == 'success', 'messages': msgs},
                'meta': {k: {'node_id': k, 'display_node': k} for k in outputs}}
            state.count(outcome)


class HandlerProxy:
    """make_outputs without a request (the worker thread has none)."""

    @staticmethod
    def make_outputs(state, pid, width, height, seed, prefix):
        fake = Handler.__new__(Handler)
        return Handler.make_outputs(fake, pid, width, height, seed, prefix)


def main():
    def setup_state(state):
        state.queue, state.running, state.history, state.uploads = [], None, {}, {}
        state.number = 0
        if not hasattr(state, 'wake'):  # the worker waits on it across resets
            state.wake = threading.Condition(state.lock)

    from provider_common import State
    orig_reset = State.reset

    def reset(self):
        orig_reset(self)
        setup_state(self)
    State.reset = reset
    threading.Thread(target=lambda: wait_and_run(), daemon=True).start()
    serve(Handler)


def wait_and_run():
    while Handler.state is None:
        time.sleep(0.01)
    worker(Handler.state)


if __name__ == '__main__':
    main()
