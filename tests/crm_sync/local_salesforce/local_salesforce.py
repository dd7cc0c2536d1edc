#!/usr/bin/env python3
"""A local Salesforce for tests: the REST endpoints the CRM sync uses, strictly.

Standard library only (the test machines reach no package index). The object
schema comes from the SFDX metadata in crm_sync/sfdx, so a field that is not
deployed cannot be written here either.

Endpoints (vXX.X is any version 46.0 or later):
  POST  /services/oauth2/token                              JWT bearer (RS256) or client credentials
  GET   /services/data/                                     API versions
  PATCH /services/data/vXX.X/sobjects/{Obj}/{ExtField}/{v}  upsert: 201 created, 200 updated, 300 several
  GET   /services/data/vXX.X/sobjects/{Obj}/{ExtField}/{v}  read by external id
  GET   /services/data/vXX.X/sobjects/{Obj}/{Id}            read by id
  PATCH /services/data/vXX.X/composite/sobjects/{Obj}/{ExtField}   collections upsert (<= 200)
  GET   /services/data/vXX.X/query?q=SELECT ...             SOQL subset, paged by 2,000
  Bulk API 2.0 ingest: POST jobs/ingest, PUT jobs/ingest/{id}/batches, PATCH/GET jobs/ingest/{id},
                       GET jobs/ingest/{id}/successfulResults/ and failedResults/
Test controls (no auth): GET /__admin/stats, POST /__admin/faults, /__admin/expire_tokens,
  /__admin/limits, /__admin/reset.

Run: local_salesforce.py --metadata crm_sync/sfdx --port 0 --port-file F
        [--public-key key.pem] [--client-id ID] [--client-secret S] [--api-limit N]
"""

import argparse
import base64
import csv
import hashlib
import io
import itertools
import json
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MD = '{http://soap.sforce.com/2006/04/metadata}'
ID_PREFIX = {'Contact': '003'}


# --------------------------------------------------------------------------- schema

class Field:
    def __init__(self, name, ftype, length=None, precision=None, scale=None, values=None,
                 reference_to=None, relationship=None, external_id=False, unique=False,
                 required=False, createable=True):
        self.name, self.type, self.length = name, ftype, length
        self.precision, self.scale, self.values = precision, scale, values
        self.reference_to, self.relationship = reference_to, relationship
        self.external_id, self.unique, self.required = external_id, unique, required
        self.createable = createable


def load_schema(root):
    """Objects -> {field name -> Field} from the SFDX source tree."""
    objects_dir = os.path.join(root, 'force-app', 'main', 'default', 'objects')
    schema = {}
    # Standard fields the metadata does not declare.
    schema['Contact'] = {
        'Id': Field('Id', 'Id', createable=False),
        'FirstName': Field('FirstName', 'Text', length=40),
        'LastName': Field('LastName', 'Text', length=80, required=True),
        'Email': Field('Email', 'Email', length=80),
        'Name': Field('Name', 'Text', length=121, createable=False),
    }
    for n, obj in enumerate(sorted(os.listdir(objects_dir))):
        fields = schema.setdefault(obj, {'Id': Field('Id', 'Id', createable=False)})
        ID_PREFIX.setdefault(obj, 'a0%s' % chr(ord('A') + n))
        obj_file = os.path.join(objects_dir, obj, obj + '.object-meta.xml')
        if os.path.exists(obj_file):
            name = ET.parse(obj_file).getroot().find(MD + 'nameField')
            ntype = name.find(MD + 'type').text
            fields['Name'] = Field('Name', 'Text', length=80, required=(ntype == 'Text'),
                                   createable=(ntype == 'Text'))
            fields['Name'].auto_format = (name.findtext(MD + 'displayFormat') or '')
        fdir = os.path.join(objects_dir, obj, 'fields')
        for fname in sorted(os.listdir(fdir)) if os.path.isdir(fdir) else []:
            el = ET.parse(os.path.join(fdir, fname)).getroot()
            t = lambda tag: el.findtext(MD + tag)
            ftype = t('type')
            length = int(t('length')) if t('length') else None
            if ftype == 'Url':
                length = 255
            if ftype == 'Email':
                length = 80
            values = None
            if ftype == 'Picklist':
                values = [v.findtext(MD + 'fullName')
                          for v in el.iter(MD + 'value')]
            f = Field(t('fullName'), ftype, length=length,
                      precision=int(t('precision')) if t('precision') else None,
                      scale=int(t('scale')) if t('scale') else None, values=values,
                      reference_to=t('referenceTo'),
                      external_id=(t('externalId') == 'true'), unique=(t('unique') == 'true'),
                      required=(t('required') == 'true'))
            fields[f.name] = f
            if ftype == 'Lookup':
                fields[f.name[:-3] + '__r'] = f  # the relationship name resolves to the lookup
    return schema


# --------------------------------------------------------------------------- errors

class ApiError(Exception):
    """A request-level failure: HTTP status + Salesforce's [{message, errorCode, fields}]."""

    def __init__(self, status, code, message, fields=None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def body(self):
        e = {'message': self.message, 'errorCode': self.code}
        if self.fields is not None:
            e['fields'] = self.fields
        return [e]


class RecordError(Exception):
    """A per-record failure: {statusCode, message, fields}."""

    def __init__(self, code, message, fields=()):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, list(fields)

    def as_result(self):
        return {'statusCode': self.code, 'message': self.message, 'fields': self.fields}


DATETIME_RE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$')
DATE_RE = re.compile(r'^\d{4}-\d{2}-\d{2}$')
EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')


# --------------------------------------------------------------------------- the org

class Org:
    def __init__(self, schema, api_limit):
        self.schema = schema
        self.lock = threading.RLock()
        self.records = {obj: {} for obj in schema}   # obj -> id -> fields
        self.index = {obj: {} for obj in schema}     # obj -> lower(external id) -> [ids]
        self.counter = itertools.count(1)
        self.tokens = {}
        self.api_usage, self.api_limit = 0, api_limit
        self.stats = {'api_calls': 0, 'token_requests': 0, 'collections_calls': 0,
                      'single_upserts': 0, 'records_upserted': 0, 'bulk_jobs': 0,
                      'faults_injected': 0, 'by_path': {}}
        self.faults = []          # one-shot faults, consumed in order
        self.random_faults = None  # {'rate': p, 'kinds': [...]}
        self.rng = random.Random(7)
        self.jobs = {}
        self.query_cursors = {}

    def new_id(self, obj):
        n = next(self.counter)
        base = '%s%s%010d' % (ID_PREFIX[obj], 'R0', n)
        return base + 'AAA'  # 18 characters like a case-safe id

    # --- field validation: Salesforce's codes and messages

    def convert(self, obj, name, value):
        """Validated (stored field, value) for one JSON field; raises the Salesforce error."""
        fields = self.schema[obj]
        f = fields.get(name)
        if f is None:
            raise ApiError(400, 'INVALID_FIELD',
                           "No such column '%s' on sobject of type %s" % (name, obj))
        if name.endswith('__r'):
            return f.name, self.resolve_lookup(f, value)
        if not f.createable:
            raise RecordError('INVALID_FIELD_FOR_INSERT_UPDATE',
                              'Unable to create/update fields: %s. Please check the security '
                              'settings of this field and verify that it is read/write for your '
                              'profile or permission set.' % name, [name])
        if value is None:
            return name, None
        t = f.type
        if t in ('Text', 'LongTextArea', 'Url', 'Email', 'Picklist', 'Lookup'):
            if not isinstance(value, str):
                raise ApiError(400, 'JSON_PARSER_ERROR',
                               'Cannot deserialize instance of string from %s value %s or '
                               'request may be missing a required field'
                               % (json_token(value), json.dumps(value)))
            if value == '':
                return name, None  # Salesforce stores empty text as null
            if t == 'Lookup':
                return name, self.resolve_id(f, value)
            if f.length is not None and len(value) > f.length:
                raise RecordError('STRING_TOO_LONG',
                                  '%s: data value too large: %s (max length=%d)'
                                  % (label(name), value[:60], f.length), [name])
            if t == 'Email' and not EMAIL_RE.match(value):
                raise RecordError('INVALID_EMAIL_ADDRESS',
                                  '%s: invalid email address: %s' % (label(name), value), [name])
            if t == 'Picklist' and value not in f.values:
                raise RecordError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
                                  '%s: bad value for restricted picklist field: %s'
                                  % (label(name), value), [name])
            return name, value
        if t == 'Number':
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ApiError(400, 'JSON_PARSER_ERROR',
                               'Cannot deserialize instance of double from %s value %s or '
                               'request may be missing a required field'
                               % (json_token(value), json.dumps(value)))
            integer_digits = len(str(int(abs(value)))) if abs(value) >= 1 else 0
            if integer_digits > f.precision - f.scale:
                raise RecordError('NUMBER_OUTSIDE_VALID_RANGE',
                                  '%s: value outside of valid range on numeric field: %s'
                                  % (label(name), value), [name])
            return name, round(value, f.scale) if f.scale else value
        if t == 'DateTime':
            if not isinstance(value, str) or not DATETIME_RE.match(value):
                raise ApiError(400, 'JSON_PARSER_ERROR',
                               "Cannot deserialize instance of datetime from VALUE_STRING value "
                               "%s or request may be missing a required field" % json.dumps(value))
            return name, normalise_datetime(value)
        if t == 'Date':
            if not isinstance(value, str) or not DATE_RE.match(value):
                raise ApiError(400, 'JSON_PARSER_ERROR',
                               'Cannot deserialize instance of date from VALUE_STRING value %s'
                               % json.dumps(value))
            return name, value
        if t == 'Checkbox':
            if not isinstance(value, bool):
                raise ApiError(400, 'JSON_PARSER_ERROR',
                               'Cannot deserialize instance of boolean from %s value %s'
                               % (json_token(value), json.dumps(value)))
            return name, value
        raise ApiError(400, 'INVALID_FIELD', 'Field %s of type %s is not writable' % (name, t))

    def resolve_lookup(self, f, value):
        """`"User__r": {"Farm_Id__c": "x"}` -> the parent's id, or the Salesforce error."""
        target = f.reference_to
        if not isinstance(value, dict) or len(value) != 1:
            raise ApiError(400, 'JSON_PARSER_ERROR',
                           'The relationship field %s must name exactly one external id field'
                           % (f.name[:-3] + '__r'))
        (ext, key), = value.items()
        ef = self.schema[target].get(ext)
        if ef is None or not ef.external_id:
            raise ApiError(400, 'INVALID_FIELD',
                           "No such column '%s' on sobject of type %s" % (ext, target))
        matches = self.find(target, ext, key)
        if not matches:
            raise RecordError('INVALID_FIELD',
                              'Foreign key external ID: %s not found for field %s in entity %s'
                              % (key, ext, target), [])
        if len(matches) > 1:
            raise RecordError('INVALID_FIELD',
                              'Foreign key external ID: %s matched more than one record for field '
                              '%s in entity %s' % (key, ext, target), [])
        return matches[0]

    def resolve_id(self, f, value):
        if value not in self.records[f.reference_to]:
            raise RecordError('INVALID_CROSS_REFERENCE_KEY',
                              'invalid cross reference id', [f.name])
        return value

    def validate(self, obj, body):
        """The record's stored fields; raises ApiError (request) or RecordError (record)."""
        if not isinstance(body, dict):
            raise ApiError(400, 'JSON_PARSER_ERROR', 'Expected a JSON object for the record')
        out = {}
        for name, value in body.items():
            if name == 'attributes':
                if not isinstance(value, dict) or value.get('type', obj) != obj:
                    raise ApiError(400, 'INVALID_TYPE', 'attributes.type must be %s' % obj)
                continue
            key, v = self.convert(obj, name, value)
            out[key] = v
        return out

    def upsert(self, obj, ext, key, body):
        """(status, id, created) for one record; raises RecordError."""
        ef = self.schema[obj][ext]
        fields = self.validate(obj, body)
        if ext in fields and not same_key(ef, fields[ext], key):
            raise RecordError('INVALID_FIELD', 'The external id in the body does not match the '
                              'one in the URL', [ext])
        fields[ext] = key
        matches = self.find(obj, ext, key)
        if len(matches) > 1:
            return 300, matches, False
        if matches:
            rec = self.records[obj][matches[0]]
            merged = dict(rec)
            merged.update(fields)
            self.check_required(obj, merged)
            rec.update(fields)
            return 200, matches[0], False
        self.check_required(obj, fields)
        rid = self.new_id(obj)
        fields['Id'] = rid
        name = self.schema[obj].get('Name')
        if name is not None and not name.createable and obj != 'Contact':
            fmt = getattr(name, 'auto_format', '') or '{0}'
            fields['Name'] = re.sub(r'\{0+\}', lambda m: '%0*d' % (len(m.group()) - 2, len(
                self.records[obj]) + 1), fmt)
        self.records[obj][rid] = fields
        self.index[obj].setdefault(key.lower(), []).append(rid)
        return 201, rid, True

    def find(self, obj, ext, key):
        """Ids of the records whose external id `ext` equals `key` (case-insensitive)."""
        if not isinstance(key, str):
            return []
        return [rid for rid in self.index[obj].get(key.lower(), [])
                if same_key(self.schema[obj][ext], self.records[obj][rid].get(ext), key)]

    def check_required(self, obj, fields):
        missing = [f.name for f in self.schema[obj].values()
                   if f.required and f.createable and not f.name.endswith('__r')
                   and fields.get(f.name) is None]
        if missing:
            raise RecordError('REQUIRED_FIELD_MISSING',
                              'Required fields are missing: [%s]' % ', '.join(missing), missing)

    def view(self, obj, rec, names=None):
        out = {'attributes': {'type': obj, 'url': '/services/data/v59.0/sobjects/%s/%s'
                              % (obj, rec['Id'])}}
        schema = self.schema[obj]
        for name in names or [n for n in schema if not n.endswith('__r')]:
            if '.' in name:
                rel, sub = name.split('.', 1)
                f = schema[rel]
                parent = self.records[f.reference_to].get(rec.get(f.name))
                out[rel] = None if parent is None else {
                    'attributes': {'type': f.reference_to,
                                   'url': '/services/data/v59.0/sobjects/%s/%s'
                                   % (f.reference_to, parent['Id'])},
                    sub: parent.get(sub)}
            elif name == 'Name' and obj == 'Contact':
                out[name] = ' '.join(x for x in (rec.get('FirstName'), rec.get('LastName')) if x)
            else:
                out[name] = rec.get(name)
        return out


def same_key(field, a, b):
    if a is None or b is None:
        return False
    return a == b if getattr(field, 'case_sensitive', False) else a.lower() == b.lower()


def label(name):
    return name[:-3].replace('_', ' ') if name.endswith('__c') else name


def json_token(v):
    if isinstance(v, bool):
        return 'VALUE_TRUE' if v else 'VALUE_FALSE'
    if isinstance(v, (int, float)):
        return 'VALUE_NUMBER_INT' if isinstance(v, int) else 'VALUE_NUMBER_FLOAT'
    if isinstance(v, str):
        return 'VALUE_STRING'
    return 'START_OBJECT' if isinstance(v, dict) else 'START_ARRAY'


def normalise_datetime(v):
    """Salesforce answers datetimes as 2024-01-02T03:04:05.000+0000."""
    m = re.match(r'^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$', v)
    frac = (m.group(2) or '.000').ljust(4, '0')
    zone = m.group(3)
    if zone != 'Z' and zone.replace(':', '') not in ('+0000', '-0000'):
        return v  # kept as given; the sync always sends UTC
    return m.group(1) + frac + '+0000'


# --------------------------------------------------------------------------- RS256

def b64url_decode(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def der_read(data, pos):
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7f
        length = int.from_bytes(data[pos:pos + n], 'big')
        pos += n
    return tag, data[pos:pos + length], pos + length


def load_rsa_public_key(pem_text):
    """(n, e) from a PEM SubjectPublicKeyInfo or PKCS#1 RSAPublicKey."""
    body = ''.join(l for l in pem_text.splitlines() if l and not l.startswith('-----'))
    der = base64.b64decode(body)
    _, seq, _ = der_read(der, 0)
    tag, first, rest_pos = der_read(seq, 0)
    if tag == 0x30:  # SubjectPublicKeyInfo: algorithm, BIT STRING(RSAPublicKey)
        _, bits, _ = der_read(seq, rest_pos)
        _, seq, _ = der_read(bits[1:], 0)
        _, first, rest_pos = der_read(seq, 0)
    n = int.from_bytes(first, 'big')
    _, e_bytes, _ = der_read(seq, rest_pos)
    return n, int.from_bytes(e_bytes, 'big')


SHA256_PREFIX = bytes.fromhex('3031300d060960864801650304020105000420')


def rs256_valid(key, signing_input, signature):
    n, e = key
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    em = pow(int.from_bytes(signature, 'big'), e, n).to_bytes(k, 'big')
    digest = SHA256_PREFIX + hashlib.sha256(signing_input).digest()
    expected = b'\x00\x01' + b'\xff' * (k - len(digest) - 3) + b'\x00' + digest
    return em == expected


# --------------------------------------------------------------------------- HTTP

SOQL_RE = re.compile(r'^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)'
                     r'(?:\s+WHERE\s+(.+?))?'
                     r'(?:\s+ORDER\s+BY\s+([\w.]+)(?:\s+(ASC|DESC))?(?:\s+NULLS\s+(?:FIRST|LAST))?)?'
                     r'(?:\s+LIMIT\s+(\d+))?(?:\s+OFFSET\s+(\d+))?\s*$', re.I | re.S)
SOQL_TOKEN = re.compile(r"\s*(?:('(?:[^'\\]|\\.)*')|(!=|<>|<=|>=|=|<|>|\(|\)|,)|"
                        r"(\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2}))|"
                        r"(-?\d+(?:\.\d+)?)|([\w.]+))", re.S)


def soql_literal(kind, text):
    if kind == 'string':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if kind == 'number':
        return float(text)
    low = text.lower()
    if low == 'null':
        return None
    if low in ('true', 'false'):
        return low == 'true'
    return text  # a datetime literal


def parse_where(text):
    """[(field, op, value)] for `a = 'x' AND b != null AND c IN ('p','q') AND d LIKE 'x%'`."""
    tokens, pos = [], 0
    while pos < len(text):
        m = SOQL_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == '':
                break
            raise ApiError(400, 'MALFORMED_QUERY', 'unexpected token near: %s' % text[pos:pos + 20])
        pos = m.end()
        if m.group(1):
            tokens.append(('string', m.group(1)))
        elif m.group(2):
            tokens.append(('op', m.group(2)))
        elif m.group(3):
            tokens.append(('datetime', m.group(3)))
        elif m.group(4):
            tokens.append(('number', m.group(4)))
        else:
            tokens.append(('word', m.group(5)))
    conds, i = [], 0
    while i < len(tokens):
        if tokens[i][0] != 'word':
            raise ApiError(400, 'MALFORMED_QUERY', 'expected a field name in WHERE')
        field = tokens[i][1]
        i += 1
        if i < len(tokens) and tokens[i][1].upper() == 'NOT' and i + 1 < len(tokens) \
                and tokens[i + 1][1].upper() == 'IN':
            op, i = 'NOT IN', i + 2
        elif i < len(tokens):
            op, i = tokens[i][1].upper(), i + 1
        else:
            raise ApiError(400, 'MALFORMED_QUERY', 'unexpected end of WHERE')
        if op in ('IN', 'NOT IN'):
            if i >= len(tokens) or tokens[i][1] != '(':
                raise ApiError(400, 'MALFORMED_QUERY', 'IN needs a parenthesised list')
            values, i = [], i + 1
            while i < len(tokens) and tokens[i][1] != ')':
                if tokens[i][1] != ',':
                    values.append(soql_literal(*tokens[i]))
                i += 1
            i += 1
            conds.append((field, op, values))
        elif op in ('=', '!=', '<>', '<', '>', '<=', '>=', 'LIKE'):
            if i >= len(tokens):
                raise ApiError(400, 'MALFORMED_QUERY', 'a comparison needs a value')
            conds.append((field, '!=' if op == '<>' else op, soql_literal(*tokens[i])))
            i += 1
        else:
            raise ApiError(400, 'MALFORMED_QUERY', 'unsupported operator %s' % op)
        if i < len(tokens):
            if tokens[i][1].upper() != 'AND':
                raise ApiError(400, 'MALFORMED_QUERY',
                               'only AND-ed conditions are supported, not %s' % tokens[i][1])
            i += 1
    return conds


def soql_matches(value, op, wanted):
    """SOQL comparison semantics: text compares case-insensitively, null only by =/!=."""
    norm = lambda v: v.lower() if isinstance(v, str) else v
    if op in ('IN', 'NOT IN'):
        found = any(norm(value) == norm(w) for w in wanted)
        return found if op == 'IN' else not found
    if op == 'LIKE':
        if not isinstance(value, str) or not isinstance(wanted, str):
            return False
        rx = '^' + re.escape(wanted.lower()).replace('%', '.*').replace('_', '.') + '$'
        return re.match(rx, value.lower()) is not None
    if isinstance(wanted, str) and isinstance(value, str) and DATETIME_RE.match(wanted):
        wanted = normalise_datetime(wanted)
    if isinstance(wanted, float) and isinstance(value, (int, float)):
        value = float(value)
    a, b = norm(value), norm(wanted)
    if op == '=':
        return a == b
    if op == '!=':
        return a != b
    if a is None or b is None or type(a) != type(b):
        return False
    return {'<': a < b, '>': a > b, '<=': a <= b, '>=': a >= b}[op]


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'LocalSalesforce/1.0'

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write('%s\n' % (fmt % args))

    # --- plumbing

    def body_bytes(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def send(self, status, body, content_type='application/json;charset=UTF-8', headers=()):
        org = self.server.org
        data = body if isinstance(body, bytes) else (
            b'' if body is None else json.dumps(body).encode())
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Sforce-Limit-Info', 'api-usage=%d/%d' % (org.api_usage, org.api_limit))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.dispatch('GET')

    def do_POST(self):
        self.dispatch('POST')

    def do_PATCH(self):
        self.dispatch('PATCH')

    def do_PUT(self):
        self.dispatch('PUT')

    def do_DELETE(self):
        self.dispatch('DELETE')

    def dispatch(self, method):
        org = self.server.org
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        body = self.body_bytes()
        try:
            if path.startswith('/__admin/'):
                return self.admin(method, path, body)
            if path == '/services/oauth2/token' and method == 'POST':
                return self.token(body)
            if path.rstrip('/') == '/services/data':
                return self.send(200, [{'label': 'Winter', 'url': '/services/data/v59.0',
                                        'version': '59.0'}])
            m = re.match(r'^/services/data/v(\d+)\.(\d)(/.*)$', path)
            if not m:
                raise ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
            self.authorise()
            if self.inject_fault():
                return
            with org.lock:
                org.api_usage += 1
                org.stats['api_calls'] += 1
                if org.api_usage > org.api_limit:
                    raise ApiError(403, 'REQUEST_LIMIT_EXCEEDED',
                                   'TotalRequests Limit exceeded.')
                return self.data_api(method, m.group(3), url.query, body, int(m.group(1)))
        except ApiError as e:
            return self.send(e.status, e.body())
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True
        except Exception:  # a bug here answers like Salesforce's own: 500, and a trace
            import traceback
            traceback.print_exc()
            return self.send(500, [{'message': 'An unexpected error occurred.',
                                    'errorCode': 'UNKNOWN_EXCEPTION'}])

    def authorise(self):
        org = self.server.org
        auth = self.headers.get('Authorization', '')
        token = auth[7:] if auth.startswith('Bearer ') else None
        with org.lock:
            expires = org.tokens.get(token)
        if expires is None or expires < time.time():
            raise ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid')

    def inject_fault(self):
        """True when a fault answered (or dropped) the request."""
        org = self.server.org
        with org.lock:
            fault = None
            if org.faults:
                fault = org.faults[0]
                fault['count'] = fault.get('count', 1) - 1
                if fault['count'] <= 0:
                    org.faults.pop(0)
            elif org.random_faults and org.rng.random() < org.random_faults['rate']:
                fault = {'kind': org.rng.choice(org.random_faults['kinds'])}
            if fault is None:
                return False
            org.stats['faults_injected'] += 1
            kind = fault['kind']
            if kind == 'expire_session':
                org.tokens.clear()
        if kind == 'status':
            status = fault.get('status', 503)
            self.send(status, [{'message': 'Service Unavailable', 'errorCode': 'SERVER_UNAVAILABLE'}]
                      if status >= 500 else [{'message': 'injected', 'errorCode': 'INJECTED'}])
        elif kind == 'server_error':
            self.send(500, [{'message': 'An unexpected error occurred. Please include this '
                             'ErrorId if you contact support: 1234-5678', 'errorCode':
                             'UNKNOWN_EXCEPTION'}])
        elif kind == 'unavailable':
            self.send(503, [{'message': 'Service Unavailable', 'errorCode': 'SERVER_UNAVAILABLE'}])
        elif kind == 'lock_row':
            self.send(400, [{'message': 'unable to obtain exclusive access to this record or 1 '
                             'records: 001000000000001', 'errorCode': 'UNABLE_TO_LOCK_ROW'}])
        elif kind == 'limit':
            self.send(403, [{'message': 'TotalRequests Limit exceeded.',
                             'errorCode': 'REQUEST_LIMIT_EXCEEDED'}])
        elif kind == 'expire_session':
            self.send(401, [{'message': 'Session expired or invalid',
                             'errorCode': 'INVALID_SESSION_ID'}])
        elif kind == 'timeout':
            time.sleep(fault.get('seconds', 5))
            self.drop()
        elif kind == 'drop':
            self.drop()
        else:
            return False
        return True

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- OAuth

    def token(self, body):
        org, srv = self.server.org, self.server
        with org.lock:
            org.stats['token_requests'] += 1
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        if self.headers.get('Content-Type', '').split(';')[0] != \
                'application/x-www-form-urlencoded':
            return self.send(400, {'error': 'invalid_request',
                                   'error_description': 'invalid content type'})
        grant = form.get('grant_type', [''])[0]
        if grant == 'urn:ietf:params:oauth:grant-type:jwt-bearer':
            err = self.check_assertion(form.get('assertion', [''])[0])
        elif grant == 'client_credentials':
            ok = (form.get('client_id', [''])[0] == srv.client_id and srv.client_secret and
                  form.get('client_secret', [''])[0] == srv.client_secret)
            err = None if ok else ('invalid_client', 'invalid client credentials')
        else:
            err = ('unsupported_grant_type', 'grant type not supported')
        if err:
            return self.send(400, {'error': err[0], 'error_description': err[1]})
        token = '00D' + os.urandom(4).hex() + '!' + base64.urlsafe_b64encode(
            os.urandom(48)).decode().rstrip('=')
        with org.lock:
            org.tokens[token] = time.time() + srv.token_ttl
        host = '%s://%s:%d' % ((self.server.scheme,) + self.server.server_address[:2])
        issued = str(int(time.time() * 1000))
        return self.send(200, {
            'access_token': token, 'scope': 'api', 'instance_url': host,
            'id': host + '/id/00D000000000001/005000000000001', 'token_type': 'Bearer',
            'issued_at': issued,
            'signature': base64.b64encode(hashlib.sha256(issued.encode()).digest()).decode()})

    def check_assertion(self, assertion):
        srv = self.server
        parts = assertion.split('.')
        if len(parts) != 3 or srv.public_key is None:
            return ('invalid_grant', 'invalid assertion')
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError):
            return ('invalid_grant', 'invalid assertion')
        if header.get('alg') != 'RS256':
            return ('invalid_grant', 'invalid assertion')
        if not rs256_valid(srv.public_key, (parts[0] + '.' + parts[1]).encode(), signature):
            return ('invalid_grant', 'invalid assertion')
        if claims.get('iss') != srv.client_id:
            return ('invalid_client_id', 'client identifier invalid')
        if claims.get('aud') not in srv.audiences:
            return ('invalid_grant', 'audience is invalid')
        if not isinstance(claims.get('exp'), int) or claims['exp'] < time.time():
            return ('invalid_grant', 'expired authorization code')
        if claims.get('exp') > time.time() + 300:
            return ('invalid_grant', 'expiration too far in the future')
        if claims.get('sub') not in srv.users:
            return ('invalid_grant', 'user hasn\'t approved this consumer')
        return None

    # --- data API

    def obj(self, name):
        if name not in self.server.org.schema:
            raise ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
        return name

    def ext_field(self, obj, name):
        f = self.server.org.schema[obj].get(name)
        if f is None or not (f.external_id or name == 'Id'):
            raise ApiError(404, 'NOT_FOUND',
                           'Provided external ID field does not exist or is not accessible: %s'
                           % name)
        return name

    def parse_json(self, body):
        try:
            return json.loads(body.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, 'JSON_PARSER_ERROR', 'Unexpected character: %s' % e)

    def data_api(self, method, rest, query, body, version):
        org = self.server.org
        parts = [urllib.parse.unquote(p) for p in rest.strip('/').split('/')]
        stats = org.stats['by_path']
        key = method + ' ' + '/'.join(parts[:2])
        stats[key] = stats.get(key, 0) + 1
        if parts[0] == 'sobjects' and len(parts) == 4:
            obj = self.obj(parts[1])
            ext = self.ext_field(obj, parts[2])
            if method == 'PATCH':
                return self.single_upsert(obj, ext, parts[3], body, version)
            if method == 'GET':
                return self.get_by(obj, ext, parts[3], query)
        if parts == ['sobjects'] and method == 'GET':
            return self.send(200, {'encoding': 'UTF-8', 'maxBatchSize': 200, 'sobjects': [
                {'name': o, 'label': o, 'custom': o.endswith('__c'), 'queryable': True,
                 'createable': True, 'updateable': True,
                 'keyPrefix': ID_PREFIX[o], 'urls': {'sobject': '/services/data/v59.0/sobjects/'
                                                     + o}} for o in org.schema]})
        if parts[0] == 'sobjects' and len(parts) == 3 and parts[2] == 'describe' \
                and method == 'GET':
            return self.send(200, self.describe(self.obj(parts[1])))
        if parts[0] == 'sobjects' and len(parts) == 3 and method == 'GET':
            obj = self.obj(parts[1])
            return self.get_by(obj, 'Id', parts[2], query)
        if parts[:2] == ['composite', 'sobjects'] and len(parts) == 4 and method == 'PATCH':
            obj = self.obj(parts[2])
            return self.collection_upsert(obj, self.ext_field(obj, parts[3]), body)
        if parts[0] in ('query', 'queryAll'):
            if len(parts) == 2:
                return self.query_more(parts[1])
            q = urllib.parse.parse_qs(query).get('q', [''])[0]
            return self.soql(q)
        if parts[:2] == ['jobs', 'ingest']:
            return self.bulk(method, parts[2:], body)
        raise ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')

    def single_upsert(self, obj, ext, key, body, version):
        org = self.server.org
        org.stats['single_upserts'] += 1
        record = self.parse_json(body)
        try:
            status, rid, created = org.upsert(obj, ext, key, record)
        except RecordError as e:
            return self.send(400, [{'message': e.message, 'errorCode': e.code,
                                    'fields': e.fields}])
        if status == 300:
            return self.send(300, ['/services/data/v59.0/sobjects/%s/%s' % (obj, r)
                                   for r in rid])
        org.stats['records_upserted'] += 1
        if status == 200 and version < 46:
            return self.send(204, None)
        return self.send(status, {'id': rid, 'success': True, 'errors': [], 'created': created})

    def describe(self, obj):
        kinds = {'Text': 'string', 'LongTextArea': 'textarea', 'Url': 'url', 'Email': 'email',
                 'Picklist': 'picklist', 'Lookup': 'reference', 'Number': 'double',
                 'DateTime': 'datetime', 'Date': 'date', 'Checkbox': 'boolean', 'Id': 'id'}
        fields = []
        for name, f in self.server.org.schema[obj].items():
            if name.endswith('__r'):
                continue
            fields.append({
                'name': name, 'label': label(name), 'type': kinds.get(f.type, 'string'),
                'length': f.length or 0, 'precision': f.precision or 0, 'scale': f.scale or 0,
                'custom': name.endswith('__c'), 'externalId': f.external_id,
                'unique': f.unique, 'nillable': not f.required and name != 'Id',
                'createable': f.createable, 'updateable': f.createable, 'idLookup':
                name == 'Id' or f.external_id,
                'referenceTo': [f.reference_to] if f.reference_to else [],
                'relationshipName': name[:-3] + '__r' if f.type == 'Lookup' else None,
                'picklistValues': [{'value': v, 'label': v, 'active': True,
                                    'defaultValue': False} for v in (f.values or [])]})
        return {'name': obj, 'label': obj, 'custom': obj.endswith('__c'), 'queryable': True,
                'keyPrefix': ID_PREFIX[obj], 'fields': fields,
                'urls': {'sobject': '/services/data/v59.0/sobjects/' + obj}}

    def get_by(self, obj, field, value, query):
        org = self.server.org
        if field == 'Id':
            matches = [org.records[obj][value]] if value in org.records[obj] else []
        else:
            matches = [org.records[obj][i] for i in org.find(obj, field, value)]
        if not matches:
            raise ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
        if len(matches) > 1:
            return self.send(300, ['/services/data/v59.0/sobjects/%s/%s' % (obj, r['Id'])
                                   for r in matches])
        names = urllib.parse.parse_qs(query).get('fields', [None])[0]
        names = names.split(',') if names else None
        return self.send(200, org.view(obj, matches[0], names))

    def collection_upsert(self, obj, ext, body):
        org = self.server.org
        org.stats['collections_calls'] += 1
        req = self.parse_json(body)
        if not isinstance(req, dict) or not isinstance(req.get('records'), list):
            raise ApiError(400, 'JSON_PARSER_ERROR', 'The request body must hold "records"')
        records = req['records']
        all_or_none = req.get('allOrNone', False) is True
        if len(records) > 200:
            raise ApiError(400, 'EXCEEDED_ID_LIMIT',
                           'Maximum number of records allowed: 200, Received: %d' % len(records))
        # Request-level validation first, as Salesforce deserialises the whole body.
        for r in records:
            if not isinstance(r, dict) or not isinstance(r.get('attributes'), dict) \
                    or r['attributes'].get('type') != obj:
                raise ApiError(400, 'INVALID_TYPE',
                               'Each record needs attributes.type = %s' % obj)
            if not isinstance(r.get(ext), str) or not r[ext]:
                raise ApiError(400, 'MISSING_ARGUMENT',
                               '%s not specified on a record' % ext)
        keys = [r[ext].lower() for r in records]
        lock_rate = org.random_faults.get('lock_rate', 0) if org.random_faults else 0
        snapshot = ({o: {i: dict(v) for i, v in recs.items()} for o, recs in org.records.items()}
                    if all_or_none else None)
        index_snapshot = ({o: {k: list(v) for k, v in ix.items()} for o, ix in org.index.items()}
                          if all_or_none else None)
        results = []
        for r, k in zip(records, keys):
            try:
                if keys.count(k) > 1:
                    raise RecordError('DUPLICATE_EXTERNAL_ID',
                                      'Duplicate external id specified: %s' % r[ext], [ext])
                if lock_rate and org.rng.random() < lock_rate:
                    raise RecordError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access '
                                      'to this record or 1 records: %s' % r[ext], [])
                status, rid, created = org.upsert(obj, ext, r[ext], r)
                if status == 300:
                    raise RecordError('DUPLICATE_VALUE', 'duplicate value found: %s duplicates '
                                      'value on record with id: %s' % (ext, rid[0]), [ext])
                results.append({'id': rid, 'success': True, 'errors': [], 'created': created})
            except RecordError as e:
                results.append({'success': False, 'errors': [e.as_result()]})
        failed = any(not x['success'] for x in results)
        if all_or_none and failed:
            org.records, org.index = snapshot, index_snapshot
            results = [x if not x['success'] else {
                'success': False, 'errors': [{'statusCode': 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                                              'message': 'Record rolled back because not all '
                                              'records were valid and the request was using '
                                              'AllOrNone header', 'fields': []}]}
                for x in results]
        else:
            org.stats['records_upserted'] += sum(1 for x in results if x['success'])
        return self.send(200, results)

    # --- SOQL subset

    def soql(self, q):
        org = self.server.org
        m = SOQL_RE.match(q)
        if not m:
            raise ApiError(400, 'MALFORMED_QUERY', 'unexpected token: %s' % q[:40])
        cols, obj, where, order, direction, limit, offset = m.groups()
        if obj not in org.schema:
            raise ApiError(400, 'INVALID_TYPE', "sObject type '%s' is not supported." % obj)
        schema = org.schema[obj]
        names = [c.strip() for c in cols.split(',')]
        count_only = [n.upper() for n in names] == ['COUNT()']
        conds = parse_where(where) if where else []
        for n in ([] if count_only else names) + [c[0] for c in conds] + ([order] if order else []):
            head = n.split('.')[0]
            if head not in schema or (head.endswith('__r') != ('.' in n)):
                raise ApiError(400, 'INVALID_FIELD',
                               "No such column '%s' on entity '%s'." % (n, obj))
        rows = [r for r in org.records[obj].values()
                if all(soql_matches(self.field_value(obj, r, f), op, v) for f, op, v in conds)]
        key = (lambda r: (self.field_value(obj, r, order) is None,
                          str(self.field_value(obj, r, order)))) if order else (lambda r: r['Id'])
        rows.sort(key=key, reverse=bool(direction and direction.upper() == 'DESC'))
        rows = rows[int(offset or 0):]
        if limit:
            rows = rows[:int(limit)]
        if count_only:
            return self.send(200, {'totalSize': len(rows), 'done': True, 'records': []})
        views = [org.view(obj, r, names) for r in rows]
        return self.page(views, 0)

    def field_value(self, obj, rec, name):
        org = self.server.org
        if '.' in name:
            rel, sub = name.split('.', 1)
            f = org.schema[obj][rel]
            parent = org.records[f.reference_to].get(rec.get(f.name))
            return None if parent is None else parent.get(sub)
        return rec.get(name)

    def page(self, views, start):
        org = self.server.org
        chunk = views[start:start + 2000]
        body = {'totalSize': len(views), 'done': start + 2000 >= len(views), 'records': chunk}
        if not body['done']:
            cursor = '01g%015d' % next(org.counter)
            org.query_cursors[cursor] = views
            body['nextRecordsUrl'] = '/services/data/v59.0/query/%s-%d' % (cursor, start + 2000)
        return self.send(200, body)

    def query_more(self, locator):
        cursor, _, start = locator.partition('-')
        views = self.server.org.query_cursors.get(cursor)
        if views is None or not start.isdigit():
            raise ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator')
        return self.page(views, int(start))

    # --- Bulk API 2.0 ingest

    def bulk(self, method, parts, body):
        org = self.server.org
        if not parts and method == 'POST':
            req = self.parse_json(body)
            obj = self.obj(req.get('object', ''))
            if req.get('operation') != 'upsert' and req.get('operation') != 'insert':
                raise ApiError(400, 'INVALIDJOB', 'InvalidJob : operation %s is not supported'
                               % req.get('operation'))
            ext = req.get('externalIdFieldName')
            if req.get('operation') == 'upsert':
                self.ext_field(obj, ext or '')
            if req.get('contentType', 'CSV') != 'CSV':
                raise ApiError(400, 'INVALIDJOB', 'InvalidJob : contentType must be CSV')
            jid = '750%015d' % next(org.counter)
            org.jobs[jid] = {'id': jid, 'object': obj, 'operation': req['operation'],
                             'externalIdFieldName': ext, 'state': 'Open', 'contentType': 'CSV',
                             'lineEnding': req.get('lineEnding', 'LF'), 'columnDelimiter':
                             'COMMA', 'apiVersion': 59.0, 'data': b'',
                             'numberRecordsProcessed': 0, 'numberRecordsFailed': 0,
                             'success': [], 'failed': [], 'headers': []}
            org.stats['bulk_jobs'] += 1
            return self.send(200, self.job_view(org.jobs[jid]))
        job = org.jobs.get(parts[0]) if parts else None
        if job is None:
            raise ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
        if len(parts) == 2 and parts[1] == 'batches' and method == 'PUT':
            if job['state'] != 'Open':
                raise ApiError(409, 'INVALIDJOBSTATE', 'Job is not open for upload')
            job['data'] += body
            return self.send(201, None)
        if len(parts) == 1 and method == 'PATCH':
            state = self.parse_json(body).get('state')
            if state == 'UploadComplete' and job['state'] == 'Open':
                job['state'] = 'UploadComplete'
                self.run_job(job)
            elif state == 'Aborted' and job['state'] in ('Open', 'UploadComplete'):
                job['state'] = 'Aborted'
            else:
                raise ApiError(400, 'INVALIDJOBSTATE', 'Cannot move job to %s' % state)
            return self.send(200, self.job_view(job))
        if len(parts) == 1 and method == 'GET':
            # Processing takes one poll, like the real service where it is never immediate.
            if job['state'] == 'UploadComplete':
                job['state'] = 'InProgress'
            elif job['state'] == 'InProgress':
                job['state'] = 'Failed' if job.get('fatal') else 'JobComplete'
            return self.send(200, self.job_view(job))
        if len(parts) == 2 and method == 'GET' and parts[1] in ('successfulResults',
                                                                 'failedResults'):
            if job['state'] not in ('JobComplete', 'Failed'):
                raise ApiError(400, 'INVALIDJOBSTATE', 'Job is not complete')
            rows = job['success'] if parts[1] == 'successfulResults' else job['failed']
            head = (['sf__Id', 'sf__Created'] if parts[1] == 'successfulResults'
                    else ['sf__Id', 'sf__Error'])
            out = io.StringIO()
            w = csv.writer(out, lineterminator='\n')
            w.writerow(head + job['headers'])
            for r in rows:
                w.writerow(r)
            return self.send(200, out.getvalue().encode(), content_type='text/csv')
        raise ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')

    def job_view(self, job):
        return {k: v for k, v in job.items()
                if k not in ('data', 'success', 'failed', 'headers', 'fatal')}

    def run_job(self, job):
        org = self.server.org
        obj, ext = job['object'], job['externalIdFieldName']
        try:
            rows = list(csv.reader(io.StringIO(job['data'].decode('utf-8'))))
        except (UnicodeDecodeError, csv.Error):
            job['fatal'] = True
            return
        if not rows:
            job['fatal'] = True
            return
        header, rows = rows[0], rows[1:]
        job['headers'] = header
        for row in rows:
            if len(row) != len(header):
                job['failed'].append(['', 'INVALID_FIELD:Wrong number of columns'] + row)
                continue
            record = {}
            try:
                for name, cell in zip(header, row):
                    record.update(self.csv_field(obj, name, cell))
                status, rid, created = org.upsert(obj, ext, record.get(ext, ''), record)
                if status == 300:
                    raise RecordError('DUPLICATE_VALUE', 'duplicate value found', [ext])
                job['success'].append([rid, 'true' if created else 'false'] + row)
            except RecordError as e:
                job['failed'].append(['', '%s:%s:%s' % (e.code, e.message, '--')] + row)
            except ApiError as e:
                job['failed'].append(['', '%s:%s:--' % (e.code, e.message)] + row)
        job['numberRecordsProcessed'] = len(rows)
        job['numberRecordsFailed'] = len(job['failed'])
        org.stats['records_upserted'] += len(job['success'])

    def csv_field(self, obj, name, cell):
        """CSV cells are text: typed here as Salesforce does, #N/A clears a field."""
        org = self.server.org
        if '.' in name:
            rel, sub = name.split('.', 1)
            return {rel: {sub: cell}}
        f = org.schema[obj].get(name)
        if f is None:
            raise ApiError(400, 'INVALID_FIELD', "No such column '%s' on entity '%s'" % (name, obj))
        if cell == '':
            return {}  # Bulk API 2.0: an empty cell leaves the field as it is
        if cell == '#N/A':
            return {name: None}
        if f.type == 'Number':
            try:
                return {name: float(cell) if '.' in cell else int(cell)}
            except ValueError:
                raise RecordError('INVALID_FIELD', '%s: invalid number: %s' % (name, cell), [name])
        if f.type == 'Checkbox':
            return {name: cell.lower() == 'true'}
        return {name: cell}

    # --- test controls

    def admin(self, method, path, body):
        org = self.server.org
        req = self.parse_json(body) if body else {}
        with org.lock:
            if path == '/__admin/stats':
                counts = {o: len(r) for o, r in org.records.items()}
                return self.send(200, dict(org.stats, api_usage=org.api_usage,
                                           api_limit=org.api_limit, records=counts))
            if path == '/__admin/faults' and method == 'POST':
                org.faults.extend(req.get('queue', []))
                if 'random' in req:
                    org.random_faults = req['random'] or None
                    org.rng.seed(req['random'].get('seed', 7) if req['random'] else 7)
                return self.send(200, {'queued': len(org.faults)})
            if path == '/__admin/expire_tokens':
                org.tokens.clear()
                return self.send(200, {})
            if path == '/__admin/limits':
                org.api_usage = req.get('usage', org.api_usage)
                org.api_limit = req.get('limit', org.api_limit)
                return self.send(200, {})
            if path == '/__admin/dump':
                return self.send(200, {o: [org.view(o, r) for r in recs.values()]
                                       for o, recs in org.records.items()})
            if path == '/__admin/reset':
                org.records = {o: {} for o in org.schema}
                org.index = {o: {} for o in org.schema}
                org.faults, org.random_faults = [], None
                org.api_usage = 0
                for k in org.stats:
                    org.stats[k] = {} if k == 'by_path' else 0
                return self.send(200, {})
        raise ApiError(404, 'NOT_FOUND', 'unknown admin endpoint')


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--metadata', required=True, help='the SFDX project folder')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--port-file', help='written with the port once listening')
    p.add_argument('--public-key', help='PEM public key that verifies JWT assertions')
    p.add_argument('--client-id', default='reelfarm-test-client')
    p.add_argument('--client-secret', default='')
    p.add_argument('--username', action='append', default=None,
                   help='users a JWT may name (sub); default integration@reelfarm.test')
    p.add_argument('--audience', action='append', default=None)
    p.add_argument('--api-limit', type=int, default=100000)
    p.add_argument('--token-ttl', type=int, default=7200)
    p.add_argument('--tls-cert', help='PEM certificate: serve HTTPS (clients that insist on it)')
    p.add_argument('--tls-key', help='PEM key of --tls-cert')
    p.add_argument('--verbose', action='store_true')
    args = p.parse_args()

    srv = Server((args.host, args.port), Handler)
    srv.scheme = 'http'
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        srv.scheme = 'https'
    srv.org = Org(load_schema(args.metadata), args.api_limit)
    srv.public_key = (load_rsa_public_key(open(args.public_key).read())
                      if args.public_key else None)
    srv.client_id, srv.client_secret = args.client_id, args.client_secret
    srv.users = set(args.username or ['integration@reelfarm.test'])
    srv.audiences = set(args.audience or ['https://login.salesforce.com',
                                          'https://test.salesforce.com'])
    srv.token_ttl = args.token_ttl
    srv.verbose = args.verbose
    if args.port_file:
        tmp = args.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write(str(srv.server_address[1]))
        os.rename(tmp, args.port_file)
    print('local salesforce on %s://%s:%d' % ((srv.scheme,) + srv.server_address[:2]), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
