#!/usr/bin/env python3
"""A local YouTube for tests: Google's OAuth 2.0 endpoints and the YouTube Data API v3
calls the farm makes, strictly as documented, with faults on demand.

Standard library only (the test machines reach no package index).

Endpoints:
  GET  /o/oauth2/v2/auth        consent: redirects to redirect_uri with code and state
                                (consent is given at once; access_type=offline yields a
                                refresh token at the exchange)
  POST /token                   grant_type=authorization_code | refresh_token
                                (a revoked refresh token: 400 invalid_grant)
  POST /revoke                  token=...
  GET  /youtube/v3/channels?part=snippet&mine=true
  POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status
                                X-Upload-Content-Length/-Type -> 200, Location: session URI
  PUT  {session URI}            Content-Range: bytes F-L/T with the chunk (a multiple of
                                262144 bytes except the last) -> 308 Range: bytes=0-N or
                                200 + the video; Content-Range: bytes */T -> status query;
                                404 once the session expired
  POST /upload/youtube/v3/thumbnails/set?videoId=ID   image/jpeg or image/png, <= 2 MB
  POST /youtube/v3/playlists?part=snippet,status
  POST /youtube/v3/playlistItems?part=snippet
Test controls (no auth):
  GET  /__control/stats         counters
  GET  /__control/videos        completed uploads: id, size, sha256, snippet, status,
                                thumbnail, playlists
  POST /__control/faults        {"faults": [{"kind": K, "at_byte": N, ...}]} queued; each
                                applies once to the first upload chunk whose first byte is
                                >= at_byte. K: drop (the connection closes mid-chunk, "count"
                                requests in a row, default 2; the server keeps the whole
                                256 KiB units it read),
                                status (answer "code", default 503, without keeping the
                                chunk), partial (keep only "keep" bytes, default 262144,
                                and answer 308 saying so), expire (the session is gone: 404)
  POST /__control/expire_access_tokens   every access token answers 401 from now on
  POST /__control/revoke_refresh_tokens  every refresh token is revoked (invalid_grant)
  POST /__control/quota         {"exhausted": true|false}: Data API calls answer 403
                                quotaExceeded

Run: local_youtube.py --port 0 --port-file F --client-id ID --client-secret S
                      [--data-dir DIR]   (completed uploads are written there too)
"""

import argparse
import hashlib
import json
import os
import re
import secrets
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GRANULE = 256 * 1024
MAX_JSON = 1 << 20
MAX_THUMBNAIL = 2 * 1024 * 1024
MAX_VIDEO = 256 * 1024 * 1024 * 1024


class ApiError(Exception):
    """A Data API error: {"error": {"code", "message", "errors": [{"reason", "domain"}]}}."""

    def __init__(self, status, reason, message, headers=None):
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message
        self.headers = headers or {}

    def body(self):
        return {'error': {'code': self.status, 'message': self.message,
                          'errors': [{'reason': self.reason, 'domain': 'youtube',
                                      'message': self.message}]}}


class OAuthError(Exception):
    """A token endpoint error: {"error", "error_description"}."""

    def __init__(self, status, code, description):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.codes = {}           # code -> {redirect_uri, offline, scope}
        self.refresh_tokens = {}  # token -> {revoked}
        self.access_tokens = {}   # token -> refresh token (or None)
        self.sessions = {}        # upload_id -> session
        self.videos = {}          # id -> video
        self.playlists = {}       # id -> {title, items}
        self.faults = []
        self.quota_exhausted = False
        self.stats = {'sessions': 0, 'chunks': 0, 'status_queries': 0, 'bytes_received': 0,
                      'faults_applied': 0, 'refreshes': 0, 'exchanges': 0, 'revocations': 0,
                      'unauthorized': 0, 'thumbnails': 0, 'playlists': 0, 'playlist_items': 0,
                      'rejected': 0}
        self.channel = {'id': 'UC' + secrets.token_urlsafe(16)[:22], 'title': 'Local Channel'}

    def new_access_token(self, refresh):
        token = 'ya29.' + secrets.token_urlsafe(32)
        self.access_tokens[token] = refresh
        return token


def new_id(prefix, n=11):
    return prefix + secrets.token_urlsafe(16).replace('-', 'x').replace('_', 'y')[:n]


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'LocalYouTube/1.0'

    def log_message(self, fmt, *args):
        sys.stderr.write('%s %s\n' % (self.address_string(), fmt % args))

    # ------------------------------------------------------------------ helpers

    @property
    def state(self):
        return self.server.state

    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json; charset=UTF-8')
        self.send_header('Content-Length', str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_empty(self, status, headers=None):
        self.send_response(status)
        self.send_header('Content-Length', '0')
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def content_length(self, limit):
        text = self.headers.get('Content-Length')
        if text is None:
            if self.headers.get('Transfer-Encoding'):
                raise ApiError(411, 'lengthRequired', 'Content-Length is required')
            return 0
        if not re.fullmatch(r'\d{1,15}', text):
            raise ApiError(400, 'badRequest', 'malformed Content-Length')
        n = int(text)
        if n > limit:
            raise ApiError(413, 'payloadTooLarge', 'request body over %d bytes' % limit)
        return n

    def read_body(self, limit):
        n = self.content_length(limit)
        data = b''
        while len(data) < n:
            part = self.rfile.read(n - len(data))
            if not part:
                raise ConnectionError('client closed mid-body')
            data += part
        self.body_done = True
        return data

    def query(self):
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query,
                                     keep_blank_values=True)

    def path_only(self):
        return urllib.parse.urlsplit(self.path).path

    def bearer(self, required=True):
        value = self.headers.get('Authorization')
        if value is None and not required:
            return None
        m = re.fullmatch(r'Bearer (\S+)', value or '')
        with self.state.lock:
            if not m or m.group(1) not in self.state.access_tokens:
                self.state.stats['unauthorized'] += 1
                raise ApiError(401, 'authError', 'Invalid Credentials',
                               {'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"'})
        return m.group(1)

    def require_part(self, allowed):
        parts = self.query().get('part')
        if not parts or not parts[0]:
            raise ApiError(400, 'required', "No filter selected. Expected one of: part")
        for p in parts[0].split(','):
            if p not in allowed:
                raise ApiError(400, 'invalidPart', "part '%s' is not valid here" % p)

    def json_body(self):
        ctype = self.headers.get('Content-Type', '')
        if not ctype.startswith('application/json'):
            raise ApiError(400, 'badContent', 'Content-Type must be application/json')
        try:
            body = json.loads(self.read_body(MAX_JSON) or b'null')
        except ValueError:
            raise ApiError(400, 'parseError', 'the body is not JSON')
        if not isinstance(body, dict):
            raise ApiError(400, 'parseError', 'the body must be a JSON object')
        return body

    def quota_check(self):
        with self.state.lock:
            if self.state.quota_exhausted:
                raise ApiError(403, 'quotaExceeded',
                               'The request cannot be completed because you have exceeded your '
                               'quota.')

    def unread_body_closes(self, headers):
        # An error before the body was read: the connection cannot carry another
        # request, so it closes after the answer (as Google's front ends do).
        if not self.body_done and self.headers.get('Content-Length', '0') != '0':
            self.close_connection = True
            headers = dict(headers, Connection='close')
        return headers

    def dispatch(self, method):
        self.body_done = False
        try:
            self.route(method)
        except ApiError as e:
            with self.state.lock:
                self.state.stats['rejected'] += 1
            self.send_json(e.status, e.body(), self.unread_body_closes(e.headers))
        except OAuthError as e:
            self.send_json(e.status, {'error': e.code, 'error_description': e.description},
                           self.unread_body_closes({}))
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True

    def do_GET(self):
        self.dispatch('GET')

    def do_POST(self):
        self.dispatch('POST')

    def do_PUT(self):
        self.dispatch('PUT')

    def do_DELETE(self):
        self.dispatch('DELETE')

    # ------------------------------------------------------------------ routing

    def route(self, method):
        path = self.path_only()
        routes = {
            ('GET', '/o/oauth2/v2/auth'): self.consent,
            ('POST', '/token'): self.token,
            ('POST', '/revoke'): self.revoke,
            ('GET', '/youtube/v3/channels'): self.channels,
            ('POST', '/upload/youtube/v3/videos'): self.start_upload,
            ('PUT', '/upload/youtube/v3/videos'): self.upload_chunk,
            ('POST', '/upload/youtube/v3/thumbnails/set'): self.thumbnail,
            ('POST', '/youtube/v3/playlists'): self.playlist,
            ('POST', '/youtube/v3/playlistItems'): self.playlist_item,
            ('GET', '/__control/stats'): self.control_stats,
            ('GET', '/__control/videos'): self.control_videos,
            ('POST', '/__control/faults'): self.control_faults,
            ('POST', '/__control/expire_access_tokens'): self.control_expire,
            ('POST', '/__control/revoke_refresh_tokens'): self.control_revoke,
            ('POST', '/__control/quota'): self.control_quota,
        }
        handler = routes.get((method, path))
        if handler is None:
            if any(p == path for (_, p) in routes):
                raise ApiError(405, 'methodNotAllowed', '%s is not allowed on %s' % (method, path))
            raise ApiError(404, 'notFound', 'no such endpoint: %s' % path)
        handler()

    # ------------------------------------------------------------------ OAuth

    def consent(self):
        q = {k: v[0] for k, v in self.query().items()}
        if q.get('client_id') != self.state.args.client_id:
            raise OAuthError(401, 'invalid_client', 'The OAuth client was not found.')
        if q.get('response_type') != 'code':
            raise OAuthError(400, 'unsupported_response_type', 'response_type must be code')
        redirect = q.get('redirect_uri', '')
        if not re.match(r'https?://', redirect):
            raise OAuthError(400, 'redirect_uri_mismatch', 'redirect_uri is missing or invalid')
        if not q.get('scope'):
            raise OAuthError(400, 'invalid_request', 'Missing required parameter: scope')
        code = '4/' + secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.codes[code] = {'redirect_uri': redirect,
                                      'offline': q.get('access_type') == 'offline',
                                      'scope': q['scope']}
        params = {'code': code, 'scope': q['scope']}
        if 'state' in q:
            params['state'] = q['state']
        sep = '&' if '?' in redirect else '?'
        self.send_empty(302, {'Location': redirect + sep + urllib.parse.urlencode(params)})

    def form(self):
        if self.headers.get('Content-Type', '').split(';')[0] != \
                'application/x-www-form-urlencoded':
            raise OAuthError(400, 'invalid_request',
                             'Content-Type must be application/x-www-form-urlencoded')
        body = self.read_body(64 * 1024).decode('utf-8', 'replace')
        return {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    def token(self):
        f = self.form()
        if f.get('client_id') != self.state.args.client_id or \
                f.get('client_secret') != self.state.args.client_secret:
            raise OAuthError(401, 'invalid_client', 'Unauthorized')
        grant = f.get('grant_type')
        with self.state.lock:
            if grant == 'authorization_code':
                code = self.state.codes.pop(f.get('code', ''), None)
                if code is None:
                    raise OAuthError(400, 'invalid_grant', 'Malformed auth code.')
                if code['redirect_uri'] != f.get('redirect_uri'):
                    raise OAuthError(400, 'redirect_uri_mismatch', 'Bad Request')
                self.state.stats['exchanges'] += 1
                body = {'access_token': None, 'expires_in': 3599, 'scope': code['scope'],
                        'token_type': 'Bearer'}
                refresh = None
                if code['offline']:
                    refresh = '1//' + secrets.token_urlsafe(40)
                    self.state.refresh_tokens[refresh] = {'revoked': False}
                    body['refresh_token'] = refresh
                body['access_token'] = self.state.new_access_token(refresh)
            elif grant == 'refresh_token':
                entry = self.state.refresh_tokens.get(f.get('refresh_token', ''))
                if entry is None or entry['revoked']:
                    raise OAuthError(400, 'invalid_grant', 'Token has been expired or revoked.')
                self.state.stats['refreshes'] += 1
                body = {'access_token': self.state.new_access_token(f['refresh_token']),
                        'expires_in': 3599, 'scope': 'https://www.googleapis.com/auth/youtube',
                        'token_type': 'Bearer'}
            else:
                raise OAuthError(400, 'unsupported_grant_type', 'Invalid grant_type: %s' % grant)
        self.send_json(200, body, {'Cache-Control': 'no-store'})

    def revoke(self):
        f = self.form()
        token = f.get('token', '')
        with self.state.lock:
            if token in self.state.refresh_tokens and not self.state.refresh_tokens[token]['revoked']:
                self.state.refresh_tokens[token]['revoked'] = True
                for a in [a for a, r in self.state.access_tokens.items() if r == token]:
                    del self.state.access_tokens[a]
            elif token in self.state.access_tokens:
                del self.state.access_tokens[token]
            else:
                raise OAuthError(400, 'invalid_token', 'Token expired or revoked')
            self.state.stats['revocations'] += 1
        self.send_json(200, {})

    # ------------------------------------------------------------------ Data API

    def channels(self):
        self.bearer()
        self.require_part({'snippet', 'id', 'contentDetails', 'statistics', 'status'})
        if self.query().get('mine', [''])[0] != 'true':
            raise ApiError(400, 'missingRequiredParameter', 'a filter (mine=true) is required')
        self.quota_check()
        c = self.state.channel
        self.send_json(200, {'kind': 'youtube#channelListResponse',
                             'items': [{'kind': 'youtube#channel', 'id': c['id'],
                                        'snippet': {'title': c['title']}}]})

    def start_upload(self):
        self.bearer()
        q = self.query()
        if q.get('uploadType', [''])[0] != 'resumable':
            raise ApiError(400, 'invalidUploadType', 'uploadType must be resumable')
        self.require_part({'snippet', 'status', 'contentDetails'})
        length = self.headers.get('X-Upload-Content-Length', '')
        if not re.fullmatch(r'\d{1,15}', length) or not 0 < int(length) <= MAX_VIDEO:
            raise ApiError(400, 'badRequest', 'X-Upload-Content-Length must be a positive length')
        vtype = self.headers.get('X-Upload-Content-Type', '')
        if not (vtype.startswith('video/') or vtype == 'application/octet-stream'):
            raise ApiError(400, 'invalidContentType', 'X-Upload-Content-Type must be video/*')
        body = self.json_body()
        snippet, status = body.get('snippet') or {}, body.get('status') or {}
        title = snippet.get('title')
        if not isinstance(title, str) or not title.strip():
            raise ApiError(400, 'invalidTitle', 'snippet.title is required')
        if len(title) > 100 or '<' in title or '>' in title:
            raise ApiError(400, 'invalidTitle', 'snippet.title: at most 100 characters, no < >')
        desc = snippet.get('description', '')
        if not isinstance(desc, str) or len(desc.encode()) > 5000 or '<' in desc or '>' in desc:
            raise ApiError(400, 'invalidDescription', 'snippet.description is not valid')
        tags = snippet.get('tags', [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags) or \
                sum(len(t) + (2 if ' ' in t else 0) for t in tags) + max(len(tags) - 1, 0) > 500:
            raise ApiError(400, 'invalidTags', 'snippet.tags: at most 500 characters in all')
        if status.get('privacyStatus', 'public') not in ('private', 'unlisted', 'public'):
            raise ApiError(400, 'invalidVideoMetadata', 'status.privacyStatus is not valid')
        self.quota_check()
        upload_id = secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.sessions[upload_id] = {'total': int(length), 'type': vtype,
                                              'resource': body, 'data': bytearray(),
                                              'video': None}
            self.state.stats['sessions'] += 1
        host = self.headers.get('Host', '127.0.0.1:%d' % self.server.server_address[1])
        location = 'http://%s/upload/youtube/v3/videos?uploadType=resumable&upload_id=%s' % (
            host, upload_id)
        self.send_json(200, {}, {'Location': location, 'X-GUploader-UploadID': upload_id})

    def take_fault(self, first):
        with self.state.lock:
            for i, f in enumerate(self.state.faults):
                if first >= f.get('at_byte', 0):
                    self.state.stats['faults_applied'] += 1
                    # A drop applies to two requests in a row by default: HTTP libraries
                    # (libcurl) silently resend once on a reused connection that died, and
                    # the client itself must see the failure.
                    f['count'] = f.get('count', 2 if f['kind'] == 'drop' else 1) - 1
                    if f['count'] <= 0:
                        self.state.faults.pop(i)
                    return dict(f)
        return None

    def upload_chunk(self):
        upload_id = self.query().get('upload_id', [''])[0]
        self.bearer(required=False)  # the session URI authorizes; a bad token is still refused
        with self.state.lock:
            session = self.state.sessions.get(upload_id)
        if session is None:
            self.read_body(MAX_VIDEO)  # drain, so the connection stays usable
            raise ApiError(404, 'notFound', 'the upload session does not exist or expired')
        rng = self.headers.get('Content-Range', '')
        total = session['total']
        m = re.fullmatch(r'bytes \*/(\d+)', rng)
        if m:
            if int(m.group(1)) != total:
                raise ApiError(400, 'badRequest', 'Content-Range total does not match the session')
            if self.content_length(0) != 0:
                raise ApiError(400, 'badRequest', 'a status query has no body')
            with self.state.lock:
                self.state.stats['status_queries'] += 1
            return self.answer_progress(session)
        m = re.fullmatch(r'bytes (\d+)-(\d+)/(\d+)', rng)
        if not m:
            raise ApiError(400, 'badRequest', 'Content-Range must be "bytes F-L/T" or "bytes */T"')
        first, last, declared = int(m.group(1)), int(m.group(2)), int(m.group(3))
        size = last - first + 1
        if declared != total or last < first or last >= total:
            raise ApiError(400, 'badRequest', 'Content-Range %s does not fit the session' % rng)
        if self.content_length(MAX_VIDEO) != size:
            raise ApiError(400, 'badRequest', 'Content-Length differs from the Content-Range')
        if size % GRANULE != 0 and last != total - 1:
            raise ApiError(400, 'badRequest',
                           'chunk of %d bytes: all but the last must be a multiple of 262144'
                           % size)
        with self.state.lock:
            held = len(session['data'])
        if first > held:
            # A gap: the client did not resume where the server is.
            raise ApiError(400, 'badRequest',
                           'Content-Range starts at %d but the server holds %d bytes' % (first, held))
        fault = self.take_fault(first)
        with self.state.lock:
            self.state.stats['chunks'] += 1
        kind = fault and fault.get('kind')
        if kind == 'status':
            self.read_body(size)
            raise ApiError(int(fault.get('code', 503)), 'backendError', 'Backend Error')
        if kind == 'expire':
            self.read_body(size)
            with self.state.lock:
                self.state.sessions.pop(upload_id, None)
            raise ApiError(404, 'notFound', 'the upload session expired')
        if kind == 'drop':
            want = max(1, size // 2)
            got = bytearray()
            while len(got) < want:
                part = self.rfile.read(min(65536, want - len(got)))
                if not part:
                    break
                got += part
            with self.state.lock:
                self.state.stats['bytes_received'] += len(got)
                self.absorb(session, first, bytes(got[:len(got) // GRANULE * GRANULE]))
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        data = self.read_body(size)
        with self.state.lock:
            self.state.stats['bytes_received'] += len(data)
            if kind == 'partial':
                data = data[:min(int(fault.get('keep', GRANULE)), max(size - 1, 0))]
            self.absorb(session, first, data)
        return self.answer_progress(session)

    def absorb(self, session, first, data):
        """Appends the bytes of `data` (which starts at `first`) the session lacks."""
        held = len(session['data'])
        if first < held:
            # Bytes the server holds already (an HTTP library resent a request whose
            # connection died): they must be the same bytes, and are kept once.
            overlap = min(held - first, len(data))
            if bytes(session['data'][first:first + overlap]) != data[:overlap]:
                raise ApiError(400, 'badRequest', 'resent bytes differ from those held')
            data = data[overlap:]
        session['data'] += data

    def answer_progress(self, session):
        with self.state.lock:
            held = len(session['data'])
            if held == session['total'] and session['video'] is None:
                session['video'] = self.finish(session)
            video = session['video']
        if video is not None:
            return self.send_json(200, self.video_resource(video))
        headers = {'Range': 'bytes=0-%d' % (held - 1)} if held > 0 else {}
        self.send_empty(308, headers)

    def finish(self, session):
        vid = new_id('', 11)
        data = bytes(session['data'])
        video = {'id': vid, 'size': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
                 'snippet': session['resource'].get('snippet', {}),
                 'status': session['resource'].get('status', {}), 'thumbnail': None,
                 'playlists': []}
        if self.state.args.data_dir:
            with open(os.path.join(self.state.args.data_dir, vid + '.bin'), 'wb') as f:
                f.write(data)
        session['data'] = bytearray(data)
        self.state.videos[vid] = video
        return video

    def video_resource(self, v):
        status = dict(v['status'])
        status.setdefault('privacyStatus', 'public')
        status['uploadStatus'] = 'uploaded'
        return {'kind': 'youtube#video', 'id': v['id'],
                'snippet': dict(v['snippet'], channelId=self.state.channel['id']),
                'status': status}

    def thumbnail(self):
        self.bearer()
        vid = self.query().get('videoId', [''])[0]
        ctype = self.headers.get('Content-Type', '')
        if ctype not in ('image/jpeg', 'image/png'):
            raise ApiError(400, 'invalidImage', 'the thumbnail must be image/jpeg or image/png')
        data = self.read_body(MAX_THUMBNAIL)
        magic = {'image/jpeg': b'\xff\xd8\xff', 'image/png': b'\x89PNG\r\n\x1a\n'}[ctype]
        if not data.startswith(magic):
            raise ApiError(400, 'invalidImage', 'the image is not a %s' % ctype)
        self.quota_check()
        with self.state.lock:
            video = self.state.videos.get(vid)
            if video is None:
                raise ApiError(404, 'videoNotFound', 'the video %r does not exist' % vid)
            video['thumbnail'] = hashlib.sha256(data).hexdigest()
            self.state.stats['thumbnails'] += 1
        base = 'https://i.ytimg.com/vi/%s/' % vid
        self.send_json(200, {'kind': 'youtube#thumbnailSetResponse', 'items': [{
            'default': {'url': base + 'default.jpg', 'width': 120, 'height': 90},
            'medium': {'url': base + 'mqdefault.jpg', 'width': 320, 'height': 180},
            'high': {'url': base + 'hqdefault.jpg', 'width': 480, 'height': 360},
            'maxres': {'url': base + 'maxresdefault.jpg', 'width': 1280, 'height': 720}}]})

    def playlist(self):
        self.bearer()
        self.require_part({'snippet', 'status', 'id'})
        body = self.json_body()
        title = (body.get('snippet') or {}).get('title')
        if not isinstance(title, str) or not title.strip() or len(title) > 150:
            raise ApiError(400, 'playlistTitleRequired', 'snippet.title is required (<= 150)')
        privacy = (body.get('status') or {}).get('privacyStatus', 'public')
        if privacy not in ('private', 'unlisted', 'public'):
            raise ApiError(400, 'invalidPlaylistSnippet', 'status.privacyStatus is not valid')
        self.quota_check()
        pid = new_id('PL', 32)
        with self.state.lock:
            self.state.playlists[pid] = {'title': title, 'items': []}
            self.state.stats['playlists'] += 1
        self.send_json(200, {'kind': 'youtube#playlist', 'id': pid,
                             'snippet': {'title': title}, 'status': {'privacyStatus': privacy}})

    def playlist_item(self):
        self.bearer()
        self.require_part({'snippet', 'id', 'contentDetails', 'status'})
        snippet = self.json_body().get('snippet') or {}
        pid = snippet.get('playlistId')
        res = snippet.get('resourceId') or {}
        if res.get('kind') != 'youtube#video' or not isinstance(res.get('videoId'), str):
            raise ApiError(400, 'invalidResourceId', 'snippet.resourceId must name a video')
        self.quota_check()
        with self.state.lock:
            playlist = self.state.playlists.get(pid)
            if playlist is None:
                raise ApiError(404, 'playlistNotFound', 'the playlist %r does not exist' % pid)
            video = self.state.videos.get(res['videoId'])
            if video is None:
                raise ApiError(404, 'videoNotFound', 'the video does not exist')
            iid = new_id('UEx', 40)
            playlist['items'].append(res['videoId'])
            video['playlists'].append(pid)
            self.state.stats['playlist_items'] += 1
        self.send_json(200, {'kind': 'youtube#playlistItem', 'id': iid,
                             'snippet': {'playlistId': pid, 'resourceId': res}})

    # ------------------------------------------------------------------ controls

    def control_json(self):
        data = self.read_body(MAX_JSON)
        return json.loads(data) if data else {}

    def control_stats(self):
        with self.state.lock:
            body = dict(self.state.stats, pending_faults=len(self.state.faults),
                        open_sessions=sum(1 for s in self.state.sessions.values()
                                          if s['video'] is None),
                        channel=self.state.channel)
        self.send_json(200, body)

    def control_videos(self):
        with self.state.lock:
            body = {'videos': list(self.state.videos.values()),
                    'playlists': self.state.playlists}
        self.send_json(200, body)

    def control_faults(self):
        faults = self.control_json().get('faults', [])
        for f in faults:
            if f.get('kind') not in ('drop', 'status', 'partial', 'expire'):
                self.send_json(400, {'error': 'unknown fault %r' % f.get('kind')})
                return
        with self.state.lock:
            self.state.faults.extend(faults)
            self.state.faults.sort(key=lambda f: f.get('at_byte', 0))
        self.send_json(200, {'queued': len(faults)})

    def control_expire(self):
        self.control_json()
        with self.state.lock:
            self.state.access_tokens.clear()
        self.send_json(200, {})

    def control_revoke(self):
        self.control_json()
        with self.state.lock:
            for e in self.state.refresh_tokens.values():
                e['revoked'] = True
            self.state.access_tokens.clear()
        self.send_json(200, {})

    def control_quota(self):
        body = self.control_json()
        with self.state.lock:
            self.state.quota_exhausted = bool(body.get('exhausted', True))
        self.send_json(200, {})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--port-file')
    p.add_argument('--client-id', required=True)
    p.add_argument('--client-secret', required=True)
    p.add_argument('--data-dir')
    args = p.parse_args()
    server = ThreadingHTTPServer(('127.0.0.1', args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    if args.port_file:
        tmp = args.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write(str(server.server_address[1]))
        os.replace(tmp, args.port_file)
    print('local YouTube on http://127.0.0.1:%d' % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
