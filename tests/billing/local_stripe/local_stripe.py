#!/usr/bin/env python3
"""A local Stripe for tests: the parts of Stripe's API the farm uses, strictly as
documented (form-encoded bodies with bracket notation, Idempotency-Key, expand[],
Stripe's error bodies, signed webhooks delivered at least once), with a test clock and
faults on demand.

Standard library only (the test machines reach no package index).

API (every /v1 call needs "Authorization: Bearer <secret key>" or HTTP Basic with the
key as user name; every answer carries Request-Id, Content-Type: application/json and
Stripe-Version (the request's, else DEFAULT_API_VERSION); a Stripe-Version header must
be YYYY-MM-DD or YYYY-MM-DD.name; POST bodies are application/x-www-form-urlencoded
only, at most 1 MiB (413 above); GET and DELETE take their parameters in the query):
  POST /v1/customers                      email name description phone metadata
  GET  /v1/customers/{id}   POST /v1/customers/{id}   GET /v1/customers?email=
  POST /v1/products                       name (required) description active metadata
  GET  /v1/products/{id}
  POST /v1/prices                         currency unit_amount product | product_data[name]
                                          recurring[interval]=day|week|month|year
                                          recurring[interval_count] lookup_key
                                          transfer_lookup_key nickname active metadata
  GET  /v1/prices/{id}      GET /v1/prices?lookup_keys[]=&product=&active=
  POST /v1/coupons                        id percent_off | amount_off+currency
                                          duration=once|forever|repeating
                                          duration_in_months name max_redemptions metadata
  GET  /v1/coupons/{id}
  POST /v1/promotion_codes                coupon (required) code metadata
  GET  /v1/promotion_codes/{id}
  POST /v1/checkout/sessions              mode=payment|subscription, success_url (required);
                                          cancel_url customer customer_email
                                          customer_creation=always|if_required
                                          client_reference_id line_items[i][price] |
                                          line_items[i][price_data][currency|unit_amount|
                                          product|product_data[name]|product_data[metadata]|
                                          recurring[interval]], line_items[i][quantity]
                                          (required) metadata discounts[0][coupon] |
                                          discounts[0][promotion_code] allow_promotion_codes
                                          subscription_data[metadata]
                                          payment_intent_data[metadata]
                                          invoice_creation[enabled] expires_at
  GET  /v1/checkout/sessions/{id}   POST /v1/checkout/sessions/{id}/expire
  GET  /v1/checkout/sessions?customer=&payment_intent=&subscription=
  GET  /v1/payment_intents/{id}   GET /v1/charges/{id}   GET /v1/refunds/{id}
  GET  /v1/subscriptions/{id}
  POST /v1/subscriptions/{id}             cancel_at_period_end metadata
                                          items[i][id] items[i][price] items[i][quantity]
                                          proration_behavior (accepted; no prorations)
  DELETE /v1/subscriptions/{id}           cancels at once (customer.subscription.deleted)
  GET  /v1/subscriptions?customer=&status=&price=
  GET  /v1/invoices/{id}    GET /v1/invoices?customer=&subscription=&status=
  POST /v1/refunds                        payment_intent | charge, amount reason metadata
  POST /v1/billing_portal/sessions        customer (required) return_url
  GET  /v1/events/{id}      GET /v1/events?type=&types[]=
  Every list takes limit (1..100, default 10), starting_after, ending_before and answers
  {object: "list", url, has_more, data} newest first. expand[] (expand[0]= as well)
  replaces ids by objects: customer, subscription, payment_intent, invoice,
  latest_invoice, charge, latest_charge, dotted paths (latest_invoice.payment_intent)
  and data.X on lists.
  Errors: {"error": {type, code?, param?, message, doc_url?}}; 400 parameter_unknown,
  parameter_missing, parameter_invalid_integer, parameter_invalid_empty,
  parameter_invalid_boolean (enums: type, param and message, no code, as Stripe does);
  404 resource_missing with param "id" (path ids) or the parameter's name; 401 for a
  missing or wrong key; 404 "Unrecognized request URL" for unknown paths.
  Idempotency-Key (POST only, at most 255 characters): the first answer below 500 is
  kept; the same key, method, path and parameters replay it with Idempotent-Replayed:
  true (and the first answer's Request-Id); other parameters: 400 idempotency_error;
  while the first is in flight: 409 idempotency_key_in_use.

Pages (no auth):
  GET  /c/pay/{id}        the hosted Checkout page (a form with a Pay button)
  POST /c/pay/{id}        pays it (as the complete control with "paid"), 303 to
                          success_url with {CHECKOUT_SESSION_ID} replaced
  GET  /p/session/{id}    the customer portal page
  GET  /i/{id}            the hosted invoice page;  GET /i/{id}/pdf  a small PDF

Test controls (no auth; JSON in, JSON out; unknown ids 404, bad input 400):
  GET  /_control/state          now, counts of objects, idempotency key uses, Stripe-Version
                                headers seen, the last 500 API requests (method, path,
                                idempotency_key, status (0: dropped), request_id, replayed),
                                pending faults, the webhook settings, failing customers
  POST /_control/faults         {"path": "/v1/checkout/sessions" (a trailing * matches a
                                prefix), "method": "POST" (optional), "kind": K,
                                "status": 500, "count": 1, "ms": 0}; or {"faults": [...]};
                                each matching API request consumes one. K:
                                  status         answers "status" (default 500), api_error,
                                                 Stripe-Should-Retry: true, not applied
                                  drop           reads the request, closes the connection
                                                 without an answer, not applied
                                  drop_after_apply  applies it (the idempotent answer is
                                                 kept), then closes without an answer
                                  in_use         409 idempotency_key_in_use, not applied
                                  card_declined  402 card_error card_declined
                                                 generic_decline, Stripe-Should-Retry:
                                                 false (kept under its Idempotency-Key)
                                  rate_limit     429 rate_limit, not applied
                                  delay          waits "ms" with the key in flight, then
                                                 applies it normally
  GET  /_control/faults         the pending faults;  DELETE /_control/faults  clears them
  GET  /_control/clock          {"now": unix seconds}. Like Stripe's test clocks, the clock
                                starts at the wall-clock time at start-up and then moves
                                only when advanced: every "created" and period is on it.
  POST /_control/clock/advance  {"seconds": N}: moves the clock and runs, in time order,
                                what fell due: Checkout Session expiry (checkout.session.
                                expired), renewals (a new invoice, billing_reason
                                subscription_cycle, paid: invoice.created, invoice.paid,
                                invoice.payment_succeeded, customer.subscription.updated
                                with the old period in previous_attributes; unpaid: invoice
                                open with attempt_count and next_payment_attempt (+3 days),
                                invoice.created, invoice.payment_failed,
                                customer.subscription.updated to past_due), retries every 3
                                days, at most 3 attempts in all (a success: invoice.paid,
                                invoice.payment_succeeded, customer.subscription.updated
                                back to active; after the third failure the subscription is
                                canceled: customer.subscription.deleted), and the end of
                                subscriptions set to cancel_at_period_end
                                (customer.subscription.deleted, no invoice). Periods are
                                calendar months (years, weeks, days), anchored on the day of
                                the month the subscription started, clamped to short months.
  POST /_control/checkout/{id}/complete  {"outcome": "paid" (default) | "async",
                                "email": optional}; async (payment mode only): the session
                                completes with payment_status unpaid (payment_intent
                                processing; events payment_intent.processing,
                                checkout.session.completed) until
  POST /_control/checkout/{id}/async_succeed  payment_intent.succeeded, charge.succeeded,
                                checkout.session.async_payment_succeeded, or
  POST /_control/checkout/{id}/async_fail     payment_intent.payment_failed, charge.failed,
                                checkout.session.async_payment_failed
  POST /_control/customers/{id}/payments  {"fail": true|false}: the customer's renewals
                                and retries fail (true) or succeed (false, the default)
  POST /_control/webhook        any of {"url", "secret", "also_sign_with" (a second v1
                                signature, as while rolling the secret; "" removes it),
                                "duplicate", "reverse", "hold", "max_attempts" (default 5),
                                "api_version"}: only the fields given change. reverse and
                                hold keep events until flush (reverse: newest first).
                                Events emitted while no URL is set are not delivered.
  GET  /_control/webhook        the settings (the secrets included)
  POST /_control/webhook/flush  delivers what reverse/hold kept
  GET  /_control/webhook/deliveries  [{event_id, type, attempt, status (0: connection
                                error), response_body (first 500 characters), at}]
  POST /_control/webhook/wait   {"timeout_s": 10}: waits until no delivery is pending or
                                waiting for its retry (kept-until-flush ones do not count);
                                200 {"deliveries": [...]}, or 504 with the same on timeout
  POST /_control/sink           a webhook receiver: records method, headers, body, whether
                                the Stripe-Signature checks out with the current secret
                                (signature_ok), and answers 200 {"received": true}, or the
                                status set by fail
  POST /_control/sink/fail      {"count": N, "status": 500}: the next N deliveries fail
  GET  /_control/sink           {"received": [{headers, body, event (parsed), status,
                                signature_ok}]};  POST /_control/sink/clear  forgets them

Webhooks: each event {id, object: "event", api_version, created, type, livemode: false,
pending_webhooks: 1, request: {id, idempotency_key} (null for clock-driven events),
data: {object (a snapshot), previous_attributes?}} is POSTed as JSON with
Stripe-Signature: t=<wall-clock unix time>,v1=<hex HMAC-SHA256 of "t.payload"> (re-signed
each attempt), in emit order from one background thread; a non-2xx answer or a connection
error is retried after 0.1 s, doubling, up to max_attempts in all.

Run: local_stripe.py --port 0 --port-file F --secret-key sk_test_... --webhook-secret
     whsec_... [--webhook-url URL] [--host 127.0.0.1]
"""

import argparse
import base64
import calendar
import copy
import datetime
import hashlib
import hmac
import html
import http.client
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20
DEFAULT_API_VERSION = '2024-06-20'
RETRY_INTERVAL = 3 * 86400      # dunning: seconds of clock time between attempts
MAX_PAYMENT_ATTEMPTS = 3        # dunning: attempts in all before the subscription ends
ZERO_DECIMAL = {'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf',
                'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'}
VERSION_RE = re.compile(r'\d{4}-\d{2}-\d{2}(\.[a-z_]+)?')
NO_KEY_MESSAGE = ("You did not provide an API key. You need to provide your API key in the "
                  "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                  "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for "
                  "details, or we can help at https://support.stripe.com/.")


# ---------------------------------------------------------------------------- errors

class StripeError(Exception):
    """An error answer: {"error": {type, code?, param?, message, ...}}."""

    def __init__(self, status, message, type='invalid_request_error', code=None, param=None,
                 headers=None, **extra):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.error = {'type': type, 'message': message}
        if code:
            self.error['code'] = code
            self.error['doc_url'] = 'https://stripe.com/docs/error-codes/' + code.replace('_', '-')
        if param:
            self.error['param'] = param
        self.error.update(extra)

    def body(self):
        return {'error': self.error}


def missing(param):
    return StripeError(400, 'Missing required param: %s.' % param, code='parameter_missing',
                       param=param)


def unknown(param):
    return StripeError(400, 'Received unknown parameter: %s' % param, code='parameter_unknown',
                       param=param)


def invalid(param, message, code=None):
    return StripeError(400, message, code=code, param=param)


def no_such(kind, ident, param='id'):
    return StripeError(404, "No such %s: '%s'" % (kind, ident), code='resource_missing',
                       param=param)


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


# ---------------------------------------------------------------------------- params

def parse_params(text):
    """Stripe's form encoding: a[b][c]=v, a[0][b]=v, a[]=v -> nested dicts and lists."""
    root = {}
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                                       errors='strict')
    except (UnicodeDecodeError, ValueError):
        raise StripeError(400, 'Invalid request: the body could not be decoded.')
    for key, value in pairs:
        m = re.fullmatch(r'([^\[\]]+)((?:\[[^\[\]]*\])*)', key)
        if not m:
            raise invalid(key, 'Invalid parameter name: %s' % key)
        parts = [m.group(1)] + re.findall(r'\[([^\[\]]*)\]', m.group(2))
        node = root
        for i, part in enumerate(parts):
            if part == '':
                part = '\x00%d' % sum(1 for k in node if k.startswith('\x00'))
            if i == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise invalid(key, 'Invalid parameter: %s is both a value and a hash.' % key)
                node[part] = value  # a repeated scalar: the last one wins
            else:
                child = node.get(part)
                if child is None:
                    child = node[part] = {}
                elif not isinstance(child, dict):
                    raise invalid(parts[0], 'Invalid parameter: %s is both a value and a hash.'
                                  % parts[0])
                node = child
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() or k.startswith('\x00') for k in node):
        digits = sorted((int(k), v) for k, v in node.items() if k.isdigit())
        appended = [v for k, v in node.items() if k.startswith('\x00')]
        return [v for _, v in digits] + appended
    return node


def pn(prefix, name):
    """The display name of a nested parameter: pn('line_items[0]', 'price')."""
    return '%s[%s]' % (prefix, name) if prefix else name


def check_known(params, allowed, prefix=''):
    if not isinstance(params, dict):
        raise invalid(prefix or 'body', 'Invalid hash', code='parameter_invalid')
    for k in params:
        if k not in allowed:
            raise unknown(pn(prefix, k))


def as_dict(params, name):
    v = params.get(name)
    if v is None:
        return None
    if v == '':
        return ''
    if not isinstance(v, dict):
        raise invalid(name, 'Invalid object', code='parameter_invalid')
    return v


def as_list(params, name):
    v = params.get(name)
    if v is None or v == '':
        return None
    if isinstance(v, dict):
        raise invalid(name, 'Invalid array', code='parameter_invalid')
    if not isinstance(v, list):
        raise invalid(name, 'Invalid array', code='parameter_invalid')
    return v


def req_str(params, name, display=None):
    display = display or name
    v = params.get(name)
    if v is None:
        raise missing(display)
    if not isinstance(v, str):
        raise invalid(display, 'Invalid string: %s' % display, code='parameter_invalid_string')
    if v == '':
        raise empty(display)
    return v


def empty(display):
    return invalid(display, "You passed an empty string for '%s'. We assume empty values are "
                   "an attempt to unset a parameter; however '%s' cannot be unset. You should "
                   "remove '%s' from your request or supply a non-empty value."
                   % (display, display, display), code='parameter_invalid_empty')


def opt_str(params, name, display=None):
    v = params.get(name)
    if v is None:
        return None
    if not isinstance(v, str):
        raise invalid(display or name, 'Invalid string: %s' % (display or name),
                      code='parameter_invalid_string')
    return v


def opt_int(params, name, display=None, minimum=None, maximum=None):
    display = display or name
    v = params.get(name)
    if v is None:
        return None
    if not isinstance(v, str) or not re.fullmatch(r'-?\d{1,18}', v):
        if v == '':
            raise empty(display)
        raise invalid(display, 'Invalid integer: %s' % (v if isinstance(v, str) else display),
                      code='parameter_invalid_integer')
    n = int(v)
    if minimum is not None and n < minimum:
        raise invalid(display, 'This value must be greater than or equal to %d.' % minimum,
                      code='parameter_invalid_integer')
    if maximum is not None and n > maximum:
        raise invalid(display, 'This value must be less than or equal to %d.' % maximum,
                      code='parameter_invalid_integer')
    return n


def req_int(params, name, display=None, minimum=None, maximum=None):
    if params.get(name) is None:
        raise missing(display or name)
    return opt_int(params, name, display, minimum, maximum)


def opt_bool(params, name, display=None):
    v = params.get(name)
    if v is None:
        return None
    if v in ('true', 'false'):
        return v == 'true'
    raise invalid(display or name, 'Invalid boolean: %s' % (v if isinstance(v, str) else ''),
                  code='parameter_invalid_boolean')


def opt_enum(params, name, choices, display=None):
    v = opt_str(params, name, display)
    if v is None:
        return None
    if v not in choices:
        words = list(choices)
        listed = ', '.join(words[:-1]) + ', or ' + words[-1] if len(words) > 2 \
            else ' or '.join(words)
        raise invalid(display or name, 'Invalid %s: must be one of %s' % (display or name, listed))
    return v


def opt_float(params, name, display=None):
    v = params.get(name)
    if v is None:
        return None
    try:
        if not isinstance(v, str):
            raise ValueError
        return float(v)
    except ValueError:
        raise invalid(display or name, 'Invalid decimal: %s' % v, code='parameter_invalid_decimal')


def metadata_param(params, name='metadata', current=None, display=None):
    """metadata[k]=v; an empty value removes k; metadata= removes everything."""
    display = display or name
    v = params.get(name)
    result = dict(current or {})
    if v is None:
        return result
    if v == '':
        return {}
    if not isinstance(v, dict):
        raise invalid(display, 'Invalid hash', code='parameter_invalid')
    if len(v) > 50:
        raise invalid(display, 'You can specify up to 50 keys.')
    for k, val in v.items():
        if not isinstance(val, str):
            raise invalid('%s[%s]' % (display, k), 'Invalid string', code='parameter_invalid_string')
        if len(k) > 40:
            raise invalid(display, 'Metadata keys can be at most 40 characters.')
        if len(val) > 500:
            raise invalid('%s[%s]' % (display, k), 'Metadata values can be at most 500 characters.')
        if val == '':
            result.pop(k, None)
        else:
            result[k] = val
    return result


def currency_param(params, name, display=None):
    c = req_str(params, name, display)
    if not re.fullmatch(r'[a-zA-Z]{3}', c):
        raise invalid(display or name, 'Invalid currency: %s. Stripe currently supports these '
                      'currencies: usd, eur, gbp, ...' % c)
    return c.lower()


# ---------------------------------------------------------------------------- time

def add_interval(ts, interval, count, anchor_day):
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    if interval == 'day':
        return ts + 86400 * count
    if interval == 'week':
        return ts + 7 * 86400 * count
    months = count * (12 if interval == 'year' else 1)
    month0 = dt.month - 1 + months
    year, month = dt.year + month0 // 12, month0 % 12 + 1
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def rand_suffix(n=24):
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    return ''.join(secrets.choice(alphabet) for _ in range(n))


def money(amount, currency):
    if currency in ZERO_DECIMAL:
        return '%d %s' % (amount, currency.upper())
    return '%d.%02d %s' % (amount // 100, amount % 100, currency.upper())


# ---------------------------------------------------------------------------- state

KINDS = {
    # prefix -> (collection, name in "No such ..." messages)
    'cus_': ('customers', 'customer'),
    'prod_': ('products', 'product'),
    'price_': ('prices', 'price'),
    'promo_': ('promotion_codes', 'promotion code'),
    'cs_': ('checkout_sessions', 'checkout.session'),
    'pi_': ('payment_intents', 'payment_intent'),
    'ch_': ('charges', 'charge'),
    're_': ('refunds', 'refund'),
    'in_': ('invoices', 'invoice'),
    'sub_': ('subscriptions', 'subscription'),
    'bps_': ('portal_sessions', 'billing_portal.session'),
    'evt_': ('events', 'event'),
}
COLLECTIONS = [c for c, _ in KINDS.values()] + ['coupons']
EXPANDABLE = {'customer', 'subscription', 'payment_intent', 'invoice', 'latest_invoice',
              'charge', 'latest_charge', 'product', 'price', 'coupon', 'promotion_code'}


class State:
    def __init__(self, args, base_url):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.args = args
        self.base_url = base_url
        self.clock = int(time.time())  # a test clock: moves only when advanced
        self.seq = 0
        self.objects = {c: {} for c in COLLECTIONS}
        self.failing_customers = set()
        self.idempotency = {}          # key -> {method, path, params, status, body, headers}
        self.in_flight = set()
        self.key_uses = Counter()
        self.versions = Counter()
        self.requests = deque(maxlen=500)
        self.faults = []
        self.webhook = {'url': args.webhook_url or '', 'secret': args.webhook_secret,
                        'also_sign_with': '', 'duplicate': False, 'reverse': False,
                        'hold': False, 'max_attempts': 5, 'api_version': DEFAULT_API_VERSION}
        self.pending = []              # [due (monotonic), seq, event, attempt]
        self.held = []                 # events kept until flush
        self.delivering = 0
        self.deliveries = []
        self.sink = []
        self.sink_fail = {'count': 0, 'status': 500}
        self.local = threading.local()
        threading.Thread(target=self._deliver_loop, daemon=True).start()

    # -- basics

    def now(self):
        return self.clock

    def next_seq(self):
        self.seq += 1
        return self.seq

    def new_id(self, prefix):
        return prefix + rand_suffix(24 if prefix != 'cs_test_' else 58)

    def store(self, collection, obj):
        obj['_seq'] = self.next_seq()
        self.objects[collection][obj['id']] = obj
        return obj

    def find(self, ident, kind=None, param='id'):
        """The object with this id, or 404 resource_missing."""
        if kind == 'coupon':
            obj = self.objects['coupons'].get(ident) if isinstance(ident, str) else None
            if obj is None:
                raise no_such('coupon', ident, param)
            return obj
        if isinstance(ident, str):
            for prefix, (collection, name) in KINDS.items():
                if ident.startswith(prefix) and (kind is None or name == kind):
                    obj = self.objects[collection].get(ident)
                    if obj is not None:
                        return obj
        raise no_such(kind or 'object', ident, param)

    def lookup_any(self, ident):
        if not isinstance(ident, str):
            return None
        for prefix, (collection, _) in KINDS.items():
            if ident.startswith(prefix):
                return self.objects[collection].get(ident)
        return self.objects['coupons'].get(ident)

    def base(self, prefix, object_name, **fields):
        obj = {'id': self.new_id(prefix), 'object': object_name, 'created': self.now(),
               'livemode': False}
        obj.update(fields)
        return obj

    # -- events

    def request_context(self):
        ctx = getattr(self.local, 'ctx', None)
        if ctx is None:
            return {'id': None, 'idempotency_key': None}
        return {'id': ctx['request_id'], 'idempotency_key': ctx['idempotency_key']}

    def emit(self, type, obj, previous=None):
        event = {'id': self.new_id('evt_'), 'object': 'event',
                 'api_version': self.webhook['api_version'], 'created': self.now(),
                 'type': type, 'livemode': False, 'pending_webhooks': 1,
                 'request': self.request_context(),
                 'data': {'object': public(copy.deepcopy(obj))}}
        if previous is not None:
            event['data']['previous_attributes'] = copy.deepcopy(previous)
        self.store('events', event)
        if self.webhook['url']:
            copies = 2 if self.webhook['duplicate'] else 1
            for _ in range(copies):
                if self.webhook['hold'] or self.webhook['reverse']:
                    self.held.append(event)
                else:
                    self.pending.append([time.monotonic(), self.next_seq(), event, 1])
            self.cond.notify_all()
        return event

    def flush(self):
        held, self.held = self.held, []
        if self.webhook['reverse']:
            held.reverse()
        for event in held:
            self.pending.append([time.monotonic(), self.next_seq(), event, 1])
        self.cond.notify_all()
        return len(held)

    def signature_header(self, payload, at):
        signed = ('%d.' % at).encode() + payload
        parts = ['t=%d' % at]
        for secret in (self.webhook['secret'], self.webhook['also_sign_with']):
            if secret:
                parts.append('v1=' + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest())
        return ','.join(parts)

    def _deliver_loop(self):
        while True:
            with self.cond:
                while True:
                    ready = [p for p in self.pending if p[0] <= time.monotonic()]
                    if ready:
                        item = min(ready, key=lambda p: (p[0], p[1]))
                        self.pending.remove(item)
                        self.delivering += 1
                        url = self.webhook['url']
                        break
                    wait = None
                    if self.pending:
                        wait = max(0.0, min(p[0] for p in self.pending) - time.monotonic())
                    self.cond.wait(wait)
                _, _, event, attempt = item
                payload = json.dumps(event, indent=2).encode()
                header = self.signature_header(payload, int(time.time()))
                max_attempts = self.webhook['max_attempts']
            status, text = post_webhook(url, payload, header) if url else (0, 'no webhook URL')
            with self.cond:
                self.delivering -= 1
                self.deliveries.append({'event_id': event['id'], 'type': event['type'],
                                        'attempt': attempt, 'status': status,
                                        'response_body': text[:500], 'at': time.time()})
                if not 200 <= status < 300 and attempt < max_attempts and url:
                    delay = 0.1 * (2 ** (attempt - 1))
                    self.pending.append([time.monotonic() + delay, self.next_seq(), event,
                                         attempt + 1])
                self.cond.notify_all()

    def idle(self):
        return not self.pending and self.delivering == 0


def post_webhook(url, payload, header):
    try:
        parts = urllib.parse.urlsplit(url)
        cls = http.client.HTTPSConnection if parts.scheme == 'https' else http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=10)
        path = parts.path or '/'
        if parts.query:
            path += '?' + parts.query
        conn.request('POST', path, body=payload, headers={
            'Content-Type': 'application/json; charset=utf-8',
            'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'Stripe-Signature': header, 'Accept': '*/*; q=0.5, application/xml',
            'Cache-Control': 'no-cache'})
        resp = conn.getresponse()
        text = resp.read(4096).decode('utf-8', 'replace')
        conn.close()
        return resp.status, text
    except (OSError, http.client.HTTPException, ValueError) as e:
        return 0, str(e)


def public(obj):
    """The object without the server's private fields (those starting with '_')."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith('_')}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------- the API

class Api:
    """Route handlers. Each runs with the state's lock held and returns (status, body)."""

    def __init__(self, state):
        self.s = state
        self.routes = [
            ('POST', r'/v1/customers', self.create_customer),
            ('GET', r'/v1/customers', self.list_customers),
            ('GET', r'/v1/customers/([^/]+)', self.get_customer),
            ('POST', r'/v1/customers/([^/]+)', self.update_customer),
            ('POST', r'/v1/products', self.create_product),
            ('GET', r'/v1/products/([^/]+)', self.getter('product')),
            ('POST', r'/v1/prices', self.create_price),
            ('GET', r'/v1/prices', self.list_prices),
            ('GET', r'/v1/prices/([^/]+)', self.getter('price')),
            ('POST', r'/v1/coupons', self.create_coupon),
            ('GET', r'/v1/coupons/([^/]+)', self.getter('coupon')),
            ('POST', r'/v1/promotion_codes', self.create_promotion_code),
            ('GET', r'/v1/promotion_codes/([^/]+)', self.getter('promotion code')),
            ('POST', r'/v1/checkout/sessions', self.create_checkout_session),
            ('GET', r'/v1/checkout/sessions', self.list_checkout_sessions),
            ('GET', r'/v1/checkout/sessions/([^/]+)', self.getter('checkout.session')),
            ('POST', r'/v1/checkout/sessions/([^/]+)/expire', self.expire_checkout_session),
            ('GET', r'/v1/payment_intents/([^/]+)', self.getter('payment_intent')),
            ('GET', r'/v1/charges/([^/]+)', self.getter('charge')),
            ('GET', r'/v1/refunds/([^/]+)', self.getter('refund')),
            ('POST', r'/v1/refunds', self.create_refund),
            ('GET', r'/v1/subscriptions', self.list_subscriptions),
            ('GET', r'/v1/subscriptions/([^/]+)', self.getter('subscription')),
            ('POST', r'/v1/subscriptions/([^/]+)', self.update_subscription),
            ('DELETE', r'/v1/subscriptions/([^/]+)', self.cancel_subscription),
            ('GET', r'/v1/invoices', self.list_invoices),
            ('GET', r'/v1/invoices/([^/]+)', self.getter('invoice')),
            ('POST', r'/v1/billing_portal/sessions', self.create_portal_session),
            ('GET', r'/v1/events', self.list_events),
            ('GET', r'/v1/events/([^/]+)', self.getter('event')),
        ]

    def route(self, method, path):
        for m, pattern, fn in self.routes:
            if m == method:
                match = re.fullmatch(pattern, path)
                if match:
                    return fn, match.groups()
        return None, None

    # -- shared

    def answer(self, obj, params):
        body = public(copy.deepcopy(obj))
        for path in expand_list(params):
            self.expand(body, path.split('.'), path)
        return 200, body

    def expand(self, node, parts, full):
        if isinstance(node, list):
            for item in node:
                self.expand(item, parts, full)
            return
        if not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if head not in node or (head not in EXPANDABLE and head != 'data' and not rest):
            raise StripeError(400, 'This property cannot be expanded (%s).' % full,
                              param='expand')
        value = node[head]
        if isinstance(value, str) and head in EXPANDABLE:
            obj = self.s.lookup_any(value)
            if obj is not None:
                value = node[head] = public(copy.deepcopy(obj))
        if rest:
            self.expand(value, rest, full)

    def getter(self, kind):
        def get(params, ident):
            check_known(params, {'expand'})
            return self.answer(self.s.find(ident, kind), params)
        return get

    def list_of(self, collection, params, url, keep, allowed=()):
        check_known(params, {'limit', 'starting_after', 'ending_before', 'expand', 'created'}
                    | set(allowed))
        limit = opt_int(params, 'limit', minimum=1, maximum=100) or 10
        items = sorted((o for o in self.s.objects[collection].values() if keep(o)),
                       key=lambda o: (o['created'], o['_seq']), reverse=True)
        after, before = opt_str(params, 'starting_after'), opt_str(params, 'ending_before')
        ids = [o['id'] for o in items]
        if after:
            if after not in ids:
                raise no_such(KINDS.get(after[:after.find('_') + 1], ('', 'object'))[1], after,
                              'starting_after')
            items = items[ids.index(after) + 1:]
            page = items[:limit]
            more = len(items) > limit
        elif before:
            if before not in ids:
                raise no_such('object', before, 'ending_before')
            items = items[:ids.index(before)]
            page = items[-limit:]
            more = len(items) > limit
        else:
            page = items[:limit]
            more = len(items) > limit
        body = {'object': 'list', 'url': url, 'has_more': more,
                'data': public(copy.deepcopy(page))}
        for path in expand_list(params):
            if not path.startswith('data.'):
                raise StripeError(400, 'This property cannot be expanded (%s).' % path,
                                  param='expand')
            self.expand(body, path.split('.'), path)
        return 200, body

    # -- customers, products, prices, coupons

    def create_customer(self, params):
        check_known(params, {'email', 'name', 'description', 'phone', 'metadata', 'expand'})
        c = self.s.base('cus_', 'customer', email=opt_str(params, 'email'),
                        name=opt_str(params, 'name'), description=opt_str(params, 'description'),
                        phone=opt_str(params, 'phone'), metadata=metadata_param(params),
                        balance=0, currency=None, delinquent=False, discount=None,
                        invoice_prefix=rand_suffix(8).upper(),
                        invoice_settings={'default_payment_method': None})
        self.s.store('customers', c)
        return self.answer(c, params)

    def get_customer(self, params, ident):
        check_known(params, {'expand'})
        return self.answer(self.s.find(ident, 'customer'), params)

    def update_customer(self, params, ident):
        check_known(params, {'email', 'name', 'description', 'phone', 'metadata', 'expand'})
        c = self.s.find(ident, 'customer')
        for f in ('email', 'name', 'description', 'phone'):
            if f in params:
                c[f] = opt_str(params, f) or None
        c['metadata'] = metadata_param(params, current=c['metadata'])
        return self.answer(c, params)

    def list_customers(self, params):
        email = opt_str(params, 'email')
        return self.list_of('customers', params, '/v1/customers',
                            lambda o: email is None or o['email'] == email, {'email'})

    def create_product(self, params):
        check_known(params, {'name', 'description', 'active', 'metadata', 'id', 'expand'})
        p = self.make_product(params, '')
        return self.answer(p, params)

    def make_product(self, params, prefix):
        name = req_str(params, 'name', pn(prefix, 'name'))
        ident = opt_str(params, 'id')
        p = self.s.base('prod_', 'product', name=name,
                        description=opt_str(params, 'description'),
                        active=opt_bool(params, 'active') is not False,
                        metadata=metadata_param(params, display=pn(prefix, 'metadata')),
                        default_price=None, images=[], updated=self.s.now())
        if ident:
            if ident in self.s.objects['products']:
                raise StripeError(400, 'Product already exists.', code='resource_already_exists',
                                  param='id')
            p['id'] = ident
        return self.s.store('products', p)

    def create_price(self, params):
        check_known(params, {'currency', 'unit_amount', 'product', 'product_data', 'recurring',
                             'lookup_key', 'transfer_lookup_key', 'nickname', 'active',
                             'metadata', 'expand'})
        price = self.make_price(params, '')
        return self.answer(price, params)

    def make_price(self, params, prefix, inline=False):
        """A price from price params (also line_items[i][price_data])."""
        currency = currency_param(params, 'currency', pn(prefix, 'currency'))
        amount = req_int(params, 'unit_amount', pn(prefix, 'unit_amount'), minimum=0,
                         maximum=99999999)
        if 'product' in params and 'product_data' in params:
            raise StripeError(400, 'You may only specify one of these parameters: product, '
                              'product_data.', param=pn(prefix, 'product'))
        if 'product_data' in params:
            pd = as_dict(params, 'product_data')
            if not pd:
                raise empty(pn(prefix, 'product_data'))
            check_known(pd, {'name', 'description', 'metadata'}, pn(prefix, 'product_data'))
            product = self.make_product(pd, pn(prefix, 'product_data'))
        elif 'product' in params:
            product = self.s.find(req_str(params, 'product', pn(prefix, 'product')), 'product',
                                  pn(prefix, 'product'))
        else:
            raise missing(pn(prefix, 'product'))
        recurring = None
        if params.get('recurring') is not None:
            r = as_dict(params, 'recurring')
            if not r:
                raise empty(pn(prefix, 'recurring'))
            check_known(r, {'interval', 'interval_count', 'usage_type'}, pn(prefix, 'recurring'))
            if 'interval' not in r:
                raise missing(pn(prefix, 'recurring[interval]'))
            interval = opt_enum(r, 'interval', ['day', 'week', 'month', 'year'],
                                pn(prefix, 'recurring[interval]'))
            count = opt_int(r, 'interval_count', pn(prefix, 'recurring[interval_count]'),
                            minimum=1, maximum=12 if interval != 'day' else 365) or 1
            recurring = {'interval': interval, 'interval_count': count, 'usage_type': 'licensed',
                         'aggregate_usage': None, 'meter': None, 'trial_period_days': None}
        lookup_key = opt_str(params, 'lookup_key')
        if lookup_key:
            holder = [p for p in self.s.objects['prices'].values()
                      if p['lookup_key'] == lookup_key]
            if holder:
                if opt_bool(params, 'transfer_lookup_key'):
                    for p in holder:
                        p['lookup_key'] = None
                else:
                    raise StripeError(400, 'A price (`%s`) already uses that lookup key.'
                                      % holder[0]['id'], param='lookup_key')
        price = self.s.base('price_', 'price', currency=currency, unit_amount=amount,
                            unit_amount_decimal=str(amount), product=product['id'],
                            recurring=recurring,
                            type='recurring' if recurring else 'one_time',
                            active=(not inline) and opt_bool(params, 'active') is not False,
                            billing_scheme='per_unit', lookup_key=lookup_key or None,
                            nickname=opt_str(params, 'nickname'),
                            metadata=metadata_param(params, display=pn(prefix, 'metadata')),
                            tax_behavior='unspecified', tiers_mode=None,
                            transform_quantity=None)
        return self.s.store('prices', price)

    def list_prices(self, params):
        keys = params.get('lookup_keys')
        if keys is not None and not isinstance(keys, list):
            keys = [keys]
        product = opt_str(params, 'product')
        active = opt_bool(params, 'active')
        ptype = opt_enum(params, 'type', ['one_time', 'recurring'])
        return self.list_of('prices', params, '/v1/prices', lambda o: (
            (keys is None or o['lookup_key'] in keys) and
            (product is None or o['product'] == product) and
            (active is None or o['active'] == active) and
            (ptype is None or o['type'] == ptype)), {'lookup_keys', 'product', 'active', 'type'})

    def create_coupon(self, params):
        check_known(params, {'id', 'percent_off', 'amount_off', 'currency', 'duration',
                             'duration_in_months', 'name', 'max_redemptions', 'redeem_by',
                             'metadata', 'expand'})
        percent = opt_float(params, 'percent_off')
        amount = opt_int(params, 'amount_off', minimum=1)
        if percent is None and amount is None:
            raise StripeError(400, 'Must provide either `percent_off` or `amount_off`.',
                              param='percent_off')
        if percent is not None and amount is not None:
            raise StripeError(400, 'You may only specify one of these parameters: amount_off, '
                              'percent_off.', param='amount_off')
        if percent is not None and not 0 < percent <= 100:
            raise invalid('percent_off', 'percent_off must be between 0 and 100.')
        currency = None
        if amount is not None:
            if 'currency' not in params:
                raise missing('currency')
            currency = currency_param(params, 'currency')
        duration = opt_enum(params, 'duration', ['forever', 'once', 'repeating']) or 'once'
        months = opt_int(params, 'duration_in_months', minimum=1)
        if duration == 'repeating' and months is None:
            raise missing('duration_in_months')
        if duration != 'repeating' and months is not None:
            raise invalid('duration_in_months', 'duration_in_months may only be given with '
                          'duration repeating.')
        ident = opt_str(params, 'id') or rand_suffix(8)
        if ident in self.s.objects['coupons']:
            raise StripeError(400, 'Coupon already exists.', code='resource_already_exists',
                              param='id')
        c = {'id': ident, 'object': 'coupon', 'created': self.s.now(), 'livemode': False,
             'percent_off': percent, 'amount_off': amount, 'currency': currency,
             'duration': duration, 'duration_in_months': months, 'name': opt_str(params, 'name'),
             'max_redemptions': opt_int(params, 'max_redemptions', minimum=1),
             'redeem_by': opt_int(params, 'redeem_by'), 'times_redeemed': 0, 'valid': True,
             'metadata': metadata_param(params)}
        self.s.store('coupons', c)
        return self.answer(c, params)

    def create_promotion_code(self, params):
        check_known(params, {'coupon', 'code', 'active', 'metadata', 'expand'})
        coupon = self.s.find(req_str(params, 'coupon'), 'coupon', 'coupon')
        p = self.s.base('promo_', 'promotion_code', coupon=public(copy.deepcopy(coupon)),
                        code=opt_str(params, 'code') or rand_suffix(8).upper(),
                        active=opt_bool(params, 'active') is not False,
                        metadata=metadata_param(params), times_redeemed=0)
        self.s.store('promotion_codes', p)
        return self.answer(p, params)

    # -- checkout

    def create_checkout_session(self, params):
        check_known(params, {'mode', 'success_url', 'cancel_url', 'customer', 'customer_email',
                             'customer_creation', 'client_reference_id', 'line_items',
                             'metadata', 'discounts', 'allow_promotion_codes',
                             'subscription_data', 'payment_intent_data', 'invoice_creation',
                             'expires_at', 'expand', 'payment_method_types', 'locale',
                             'billing_address_collection'})
        if 'mode' not in params:
            raise missing('mode')
        mode = opt_enum(params, 'mode', ['payment', 'setup', 'subscription'])
        if mode == 'setup':
            raise invalid('mode', 'The local Stripe supports mode payment and subscription only.')
        success_url = req_str(params, 'success_url')
        if not re.match(r'https?://', success_url):
            raise invalid('success_url', 'Not a valid URL', code='url_invalid')
        cancel_url = opt_str(params, 'cancel_url')
        if cancel_url is not None and not re.match(r'https?://', cancel_url):
            raise invalid('cancel_url', 'Not a valid URL', code='url_invalid')
        customer = None
        if params.get('customer') is not None:
            customer = self.s.find(req_str(params, 'customer'), 'customer', 'customer')['id']
        customer_email = opt_str(params, 'customer_email')
        if customer and customer_email:
            raise StripeError(400, 'You may only specify one of these parameters: customer, '
                              'customer_email.', param='customer_email')
        creation = opt_enum(params, 'customer_creation', ['always', 'if_required'])
        if creation and mode == 'subscription':
            raise invalid('customer_creation', '`customer_creation` can only be used in '
                          '`payment` mode.')
        if creation and customer:
            raise StripeError(400, 'You may only specify one of these parameters: customer, '
                              'customer_creation.', param='customer_creation')
        client_ref = opt_str(params, 'client_reference_id')
        if client_ref is not None and len(client_ref) > 200:
            raise invalid('client_reference_id', 'client_reference_id can be at most 200 '
                          'characters.')
        items = as_list(params, 'line_items')
        if not items:
            raise missing('line_items')
        lines, currency = [], None
        for i, item in enumerate(items):
            p = 'line_items[%d]' % i
            if not isinstance(item, dict):
                raise invalid(p, 'Invalid hash', code='parameter_invalid')
            check_known(item, {'price', 'price_data', 'quantity'}, p)
            if 'price' in item and 'price_data' in item:
                raise StripeError(400, 'You may only specify one of these parameters: price, '
                                  'price_data.', param=p + '[price]')
            if 'price' in item:
                price = self.s.find(req_str(item, 'price', p + '[price]'), 'price', p + '[price]')
                if not price['active']:
                    raise invalid(p + '[price]', 'The price specified is inactive. This field '
                                  'only accepts active prices.')
            elif 'price_data' in item:
                pd = as_dict(item, 'price_data')
                if not pd:
                    raise empty(p + '[price_data]')
                check_known(pd, {'currency', 'unit_amount', 'product', 'product_data',
                                 'recurring'}, p + '[price_data]')
                price = None  # made once everything else is valid
            else:
                raise StripeError(400, 'You must specify either `price` or `price_data` in '
                                  '`%s`.' % p, code='parameter_missing', param=p + '[price]')
            quantity = req_int(item, 'quantity', p + '[quantity]', minimum=1, maximum=999999)
            lines.append((p, item, price, quantity))
        discounts = as_list(params, 'discounts')
        allow_promo = opt_bool(params, 'allow_promotion_codes')
        if discounts and allow_promo is not None:
            raise StripeError(400, 'You may only specify one of these parameters: '
                              'allow_promotion_codes, discounts.', param='discounts')
        coupon = promo = None
        if discounts:
            if len(discounts) > 1:
                raise invalid('discounts', 'You may only specify one discount.')
            d = discounts[0]
            if not isinstance(d, dict):
                raise invalid('discounts[0]', 'Invalid hash', code='parameter_invalid')
            check_known(d, {'coupon', 'promotion_code'}, 'discounts[0]')
            if 'coupon' in d and 'promotion_code' in d:
                raise StripeError(400, 'You may only specify one of these parameters: coupon, '
                                  'promotion_code.', param='discounts[0][coupon]')
            if 'coupon' in d:
                coupon = self.s.find(req_str(d, 'coupon', 'discounts[0][coupon]'), 'coupon',
                                     'discounts[0][coupon]')
            elif 'promotion_code' in d:
                promo = self.s.find(req_str(d, 'promotion_code', 'discounts[0][promotion_code]'),
                                    'promotion code', 'discounts[0][promotion_code]')
                if not promo['active']:
                    raise invalid('discounts[0][promotion_code]', 'This promotion code is not '
                                  'active.')
                coupon = self.s.objects['coupons'][promo['coupon']['id']]
            else:
                raise missing('discounts[0][coupon]')
        sub_data = as_dict(params, 'subscription_data')
        if sub_data:
            if mode != 'subscription':
                raise invalid('subscription_data', 'You can only specify `subscription_data` in '
                              '`subscription` mode.')
            check_known(sub_data, {'metadata', 'description'}, 'subscription_data')
        pi_data = as_dict(params, 'payment_intent_data')
        if pi_data:
            if mode != 'payment':
                raise invalid('payment_intent_data', 'You can not pass `payment_intent_data` in '
                              '`subscription` mode.')
            check_known(pi_data, {'metadata', 'description'}, 'payment_intent_data')
        inv_data = as_dict(params, 'invoice_creation')
        invoice_enabled = False
        if inv_data:
            if mode != 'payment':
                raise invalid('invoice_creation', '`invoice_creation` can only be used in '
                              '`payment` mode.')
            check_known(inv_data, {'enabled', 'invoice_data'}, 'invoice_creation')
            if 'enabled' not in inv_data:
                raise missing('invoice_creation[enabled]')
            invoice_enabled = opt_bool(inv_data, 'enabled', 'invoice_creation[enabled]')
        now = self.s.now()
        expires_at = opt_int(params, 'expires_at')
        if expires_at is not None and not now + 1800 <= expires_at <= now + 86400:
            raise invalid('expires_at', 'The `expires_at` timestamp must be between 30 minutes '
                          'and 24 hours from Checkout Session creation.')
        metadata = metadata_param(params)
        sub_metadata = metadata_param(sub_data or {}, display='subscription_data[metadata]')
        pi_metadata = metadata_param(pi_data or {}, display='payment_intent_data[metadata]')
        # Everything else is valid: make the inline prices, then check the mix.
        made = []
        for p, item, price, quantity in lines:
            if price is None:
                price = self.make_price(item['price_data'], p + '[price_data]', inline=True)
            made.append((p, price, quantity))
        for p, price, quantity in made:
            if currency is None:
                currency = price['currency']
            elif price['currency'] != currency:
                raise invalid('line_items', 'All line items must use the same currency.')
        recurring = [price for _, price, _ in made if price['recurring']]
        if mode == 'subscription' and not recurring:
            raise invalid('line_items', 'You must provide at least one recurring price in '
                          '`subscription` mode when using prices.')
        if mode == 'payment' and recurring:
            raise invalid('line_items', 'You specified `payment` mode but passed a recurring '
                          'price. Either switch to `subscription` mode or use only one-time '
                          'prices.')
        if mode == 'subscription':
            intervals = {(p['recurring']['interval'], p['recurring']['interval_count'])
                         for p in recurring}
            if len(intervals) > 1:
                raise invalid('line_items', 'Checkout does not support multiple prices with '
                              'different billing intervals.')
        subtotal = sum(price['unit_amount'] * q for _, price, q in made)
        discount = discount_amount(coupon, subtotal, currency)
        if coupon and coupon['amount_off'] and coupon['currency'] != currency:
            raise invalid('discounts[0][coupon]', "The coupon's currency must match the "
                          "currency of the Checkout Session.")
        ident = self.s.new_id('cs_test_')
        session = {'id': ident, 'object': 'checkout.session', 'created': now, 'livemode': False,
                   'url': self.s.base_url + '/c/pay/' + ident, 'status': 'open',
                   'payment_status': 'unpaid', 'mode': mode, 'amount_subtotal': subtotal,
                   'amount_total': subtotal - discount,
                   'total_details': {'amount_discount': discount, 'amount_shipping': 0,
                                     'amount_tax': 0},
                   'currency': currency, 'customer': customer, 'customer_email': customer_email,
                   'customer_creation': (creation or 'if_required') if mode == 'payment'
                   else None,
                   'customer_details': None,
                   'client_reference_id': client_ref, 'metadata': metadata,
                   'payment_intent': None, 'subscription': None, 'invoice': None,
                   'invoice_creation': {'enabled': bool(invoice_enabled), 'invoice_data': {}}
                   if mode == 'payment' else None,
                   'allow_promotion_codes': allow_promo,
                   'discounts': [{'coupon': coupon['id'],
                                  'promotion_code': promo['id'] if promo else None}]
                   if coupon else [],
                   'success_url': success_url, 'cancel_url': cancel_url,
                   'expires_at': expires_at or now + 86400,
                   'payment_method_types': ['card'], 'locale': opt_str(params, 'locale'),
                   '_lines': [{'price': price['id'], 'quantity': q} for _, price, q in made],
                   '_subscription_metadata': sub_metadata, '_pi_metadata': pi_metadata}
        self.s.store('checkout_sessions', session)
        return self.answer(session, params)

    def list_checkout_sessions(self, params):
        f = {k: opt_str(params, k) for k in ('customer', 'payment_intent', 'subscription',
                                            'status')}
        return self.list_of('checkout_sessions', params, '/v1/checkout/sessions', lambda o: all(
            v is None or o.get(k) == v for k, v in f.items()), f.keys())

    def expire_checkout_session(self, params, ident):
        check_known(params, {'expand'})
        session = self.s.find(ident, 'checkout.session')
        if session['status'] != 'open':
            raise StripeError(400, 'Only Checkout Sessions with a status in ["open"] can be '
                              'expired. This Checkout Session has a status of "%s".'
                              % session['status'])
        Engine(self.s).expire_session(session)
        return self.answer(session, params)

    # -- subscriptions

    def list_subscriptions(self, params):
        customer = opt_str(params, 'customer')
        status = opt_enum(params, 'status', ['active', 'all', 'canceled', 'ended', 'incomplete',
                                             'incomplete_expired', 'past_due', 'paused',
                                             'trialing', 'unpaid'])
        price = opt_str(params, 'price')

        def keep(o):
            if customer is not None and o['customer'] != customer:
                return False
            if price is not None and all(i['price']['id'] != price for i in o['items']['data']):
                return False
            if status == 'all':
                return True
            if status is None:
                return o['status'] != 'canceled'
            if status == 'ended':
                return o['status'] in ('canceled', 'incomplete_expired')
            return o['status'] == status
        return self.list_of('subscriptions', params, '/v1/subscriptions', keep,
                            {'customer', 'status', 'price'})

    def update_subscription(self, params, ident):
        check_known(params, {'cancel_at_period_end', 'metadata', 'items', 'proration_behavior',
                             'expand', 'description'})
        sub = self.s.find(ident, 'subscription')
        if sub['status'] == 'canceled' and set(params) - {'metadata', 'expand'}:
            raise StripeError(400, 'A canceled subscription can only update its '
                              'cancellation_details and metadata.')
        opt_enum(params, 'proration_behavior', ['always_invoice', 'create_prorations', 'none'])
        previous = {}
        cape = opt_bool(params, 'cancel_at_period_end')
        items = as_list(params, 'items')
        new_items = None
        if items:
            new_items = copy.deepcopy(sub['items'])
            for i, item in enumerate(items):
                p = 'items[%d]' % i
                if not isinstance(item, dict):
                    raise invalid(p, 'Invalid hash', code='parameter_invalid')
                check_known(item, {'id', 'price', 'quantity', 'deleted'}, p)
                quantity = opt_int(item, 'quantity', p + '[quantity]', minimum=1)
                target = None
                if 'id' in item:
                    target = next((x for x in new_items['data'] if x['id'] == item['id']), None)
                    if target is None:
                        raise no_such('subscription_item', item['id'], p + '[id]')
                if opt_bool(item, 'deleted', p + '[deleted]'):
                    if target is None:
                        raise missing(p + '[id]')
                    new_items['data'].remove(target)
                    continue
                price = None
                if 'price' in item:
                    price = self.s.find(req_str(item, 'price', p + '[price]'), 'price',
                                        p + '[price]')
                    if not price['recurring']:
                        raise invalid(p + '[price]', 'The price specified is set to '
                                      '`type=one_time` but this field only accepts prices with '
                                      '`type=recurring`.')
                if target is None:
                    if price is None:
                        raise missing(p + '[price]')
                    target = {'id': self.s.new_id('si_'), 'object': 'subscription_item',
                              'created': self.s.now(), 'metadata': {},
                              'subscription': sub['id'], 'quantity': 1}
                    new_items['data'].append(target)
                if price is not None:
                    target['price'] = public(copy.deepcopy(price))
                    target['plan'] = plan_of(price)
                if quantity is not None:
                    target['quantity'] = quantity
            if not new_items['data']:
                raise invalid('items', 'A subscription must have at least one item.')
            for it in new_items['data']:
                it['current_period_start'] = sub['current_period_start']
                it['current_period_end'] = sub['current_period_end']
        if 'metadata' in params:
            md = metadata_param(params, current=sub['metadata'])
            if md != sub['metadata']:
                previous['metadata'] = sub['metadata']
                sub['metadata'] = md
        if 'description' in params:
            if sub.get('description') != opt_str(params, 'description'):
                previous['description'] = sub.get('description')
                sub['description'] = opt_str(params, 'description') or None
        if cape is not None and cape != sub['cancel_at_period_end']:
            previous['cancel_at_period_end'] = sub['cancel_at_period_end']
            previous['cancel_at'] = sub['cancel_at']
            sub['cancel_at_period_end'] = cape
            sub['cancel_at'] = sub['current_period_end'] if cape else None
        if new_items is not None and new_items != sub['items']:
            previous['items'] = sub['items']
            previous['plan'] = sub['plan']
            sub['items'] = new_items
            sub['plan'] = new_items['data'][0]['plan']
            sub['quantity'] = new_items['data'][0]['quantity']
        if previous:
            self.s.emit('customer.subscription.updated', sub, previous)
        return self.answer(sub, params)

    def cancel_subscription(self, params, ident):
        check_known(params, {'expand', 'invoice_now', 'prorate', 'cancellation_details'})
        sub = self.s.find(ident, 'subscription')
        if sub['status'] == 'canceled':
            raise StripeError(400, 'This subscription has already been canceled.',
                              param='id')
        Engine(self.s).end_subscription(sub, 'cancellation_requested')
        return self.answer(sub, params)

    # -- invoices, refunds, portal, events

    def list_invoices(self, params):
        f = {k: opt_str(params, k) for k in ('customer', 'subscription')}
        status = opt_enum(params, 'status', ['draft', 'open', 'paid', 'uncollectible', 'void'])
        return self.list_of('invoices', params, '/v1/invoices', lambda o: all(
            v is None or o.get(k) == v for k, v in f.items()) and (
            status is None or o['status'] == status), {'customer', 'subscription', 'status'})

    def create_refund(self, params):
        check_known(params, {'payment_intent', 'charge', 'amount', 'reason', 'metadata',
                             'expand'})
        if 'payment_intent' in params and 'charge' in params:
            raise StripeError(400, 'You may only specify one of these parameters: charge, '
                              'payment_intent.', param='charge')
        if 'payment_intent' in params:
            pi = self.s.find(req_str(params, 'payment_intent'), 'payment_intent',
                             'payment_intent')
            if not pi['latest_charge']:
                raise invalid('payment_intent', 'This PaymentIntent (%s) does not have a '
                              'successful charge to refund.' % pi['id'],
                              code='charge_not_refundable')
            charge = self.s.objects['charges'][pi['latest_charge']]
        elif 'charge' in params:
            charge = self.s.find(req_str(params, 'charge'), 'charge', 'charge')
        else:
            raise StripeError(400, 'One of the following params should be provided for this '
                              'request: payment_intent or charge.', code='parameter_missing',
                              param='payment_intent')
        reason = opt_enum(params, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer'])
        metadata = metadata_param(params)
        if not charge['paid']:
            raise invalid('charge', 'This charge (%s) has not been paid and cannot be refunded.'
                          % charge['id'], code='charge_not_refundable')
        left = charge['amount'] - charge['amount_refunded']
        if left <= 0:
            raise StripeError(400, 'Charge %s has already been refunded.' % charge['id'],
                              code='charge_already_refunded', param='charge')
        amount = opt_int(params, 'amount', minimum=1)
        if amount is None:
            amount = left
        if amount > left:
            raise StripeError(400, 'Refund amount (%s) is greater than unrefunded amount on '
                              'charge (%s)' % (money(amount, charge['currency']),
                                               money(left, charge['currency'])),
                              code='amount_too_large', param='amount')
        refund = self.s.base('re_', 'refund', amount=amount, charge=charge['id'],
                             payment_intent=charge['payment_intent'],
                             currency=charge['currency'], status='succeeded', reason=reason,
                             metadata=metadata, balance_transaction='txn_' + rand_suffix(24))
        self.s.store('refunds', refund)
        charge['amount_refunded'] += amount
        charge['refunded'] = charge['amount_refunded'] >= charge['amount']
        charge['refunds']['data'].insert(0, public(copy.deepcopy(refund)))
        charge['refunds']['total_count'] = len(charge['refunds']['data'])
        self.s.emit('charge.refunded', charge,
                    {'amount_refunded': charge['amount_refunded'] - amount,
                     'refunded': False})
        self.s.emit('refund.created', refund)
        return self.answer(refund, params)

    def create_portal_session(self, params):
        check_known(params, {'customer', 'return_url', 'configuration', 'locale', 'expand'})
        customer = self.s.find(req_str(params, 'customer'), 'customer', 'customer')
        return_url = opt_str(params, 'return_url')
        if return_url is not None and not re.match(r'https?://', return_url):
            raise invalid('return_url', 'Not a valid URL', code='url_invalid')
        ident = self.s.new_id('bps_')
        session = {'id': ident, 'object': 'billing_portal.session', 'created': self.s.now(),
                   'livemode': False, 'customer': customer['id'],
                   'url': self.s.base_url + '/p/session/' + ident, 'return_url': return_url,
                   'configuration': 'bpc_local', 'locale': opt_str(params, 'locale'),
                   'on_behalf_of': None, 'flow': None}
        self.s.store('portal_sessions', session)
        return self.answer(session, params)

    def list_events(self, params):
        etype = opt_str(params, 'type')
        types = params.get('types')
        if types is not None and not isinstance(types, list):
            types = [types]

        def keep(o):
            if etype is not None:
                if etype.endswith('*'):
                    if not o['type'].startswith(etype[:-1]):
                        return False
                elif o['type'] != etype:
                    return False
            return types is None or o['type'] in types
        return self.list_of('events', params, '/v1/events', keep,
                            {'type', 'types', 'delivery_success'})


def expand_list(params):
    e = params.get('expand')
    if e is None:
        return []
    if isinstance(e, str):
        return [e]
    if not isinstance(e, list) or not all(isinstance(x, str) for x in e):
        raise invalid('expand', 'Invalid array', code='parameter_invalid')
    return e


def discount_amount(coupon, subtotal, currency):
    if not coupon:
        return 0
    if coupon['percent_off'] is not None:
        return min(subtotal, int(round(subtotal * coupon['percent_off'] / 100.0)))
    return min(subtotal, coupon['amount_off'])


def plan_of(price):
    r = price['recurring'] or {}
    return {'id': price['id'], 'object': 'plan', 'active': price['active'],
            'amount': price['unit_amount'], 'currency': price['currency'],
            'interval': r.get('interval'), 'interval_count': r.get('interval_count'),
            'product': price['product'], 'nickname': price['nickname'],
            'usage_type': 'licensed', 'metadata': price['metadata']}


# ---------------------------------------------------------------------------- billing engine

class Engine:
    """What happens after the API call: payments, subscriptions, renewals, dunning."""

    def __init__(self, state):
        self.s = state

    def new_customer(self, email, name=None):
        c = self.s.base('cus_', 'customer', email=email, name=name, description=None,
                        phone=None, metadata={}, balance=0, currency=None, delinquent=False,
                        discount=None, invoice_prefix=rand_suffix(8).upper(),
                        invoice_settings={'default_payment_method': None})
        return self.s.store('customers', c)

    def payment(self, amount, currency, customer, metadata, description=None, status='succeeded',
                invoice=None):
        """A PaymentIntent and, unless it is still processing or failed, its Charge."""
        pi = self.s.base('pi_', 'payment_intent', amount=amount, amount_received=0,
                         amount_capturable=0, currency=currency, customer=customer,
                         metadata=dict(metadata or {}), description=description,
                         status=status, latest_charge=None, invoice=invoice,
                         payment_method='pm_' + rand_suffix(24), payment_method_types=['card'],
                         capture_method='automatic', confirmation_method='automatic',
                         last_payment_error=None, canceled_at=None,
                         client_secret=None)
        pi['client_secret'] = pi['id'] + '_secret_' + rand_suffix(24)
        self.s.store('payment_intents', pi)
        if status == 'succeeded':
            self.charge(pi)
        return pi

    def charge(self, pi, status='succeeded'):
        ch = self.s.base('ch_', 'charge', amount=pi['amount'],
                         amount_captured=pi['amount'] if status == 'succeeded' else 0,
                         amount_refunded=0, refunded=False, captured=status == 'succeeded',
                         paid=status == 'succeeded', status=status, currency=pi['currency'],
                         customer=pi['customer'], payment_intent=pi['id'],
                         invoice=pi['invoice'], metadata=dict(pi['metadata']),
                         description=pi['description'], payment_method=pi['payment_method'],
                         balance_transaction='txn_' + rand_suffix(24)
                         if status == 'succeeded' else None,
                         failure_code=None if status == 'succeeded' else 'card_declined',
                         failure_message=None if status == 'succeeded'
                         else 'Your card was declined.',
                         receipt_url=None,
                         refunds={'object': 'list', 'data': [], 'has_more': False,
                                  'total_count': 0, 'url': ''})
        ch['refunds']['url'] = '/v1/charges/%s/refunds' % ch['id']
        self.s.store('charges', ch)
        pi['latest_charge'] = ch['id']
        if status == 'succeeded':
            pi['amount_received'] = pi['amount']
            pi['status'] = 'succeeded'
        return ch

    def invoice(self, customer, currency, lines, reason, subscription=None, period=None,
                discount=0, metadata=None):
        """An open invoice with its lines: lines = [(price, quantity)]."""
        now = self.s.now()
        period = period or (now, now)
        subtotal = sum(p['unit_amount'] * q for p, q in lines)
        total = subtotal - discount
        number_prefix = self.s.objects['customers'][customer]['invoice_prefix']
        count = sum(1 for i in self.s.objects['invoices'].values() if i['customer'] == customer)
        inv = self.s.base('in_', 'invoice', status='draft', billing_reason=reason,
                          customer=customer, subscription=subscription, currency=currency,
                          amount_due=total, amount_paid=0, amount_remaining=total,
                          subtotal=subtotal, total=total,
                          total_discount_amounts=[{'amount': discount, 'discount': None}]
                          if discount else [],
                          number='%s-%04d' % (number_prefix, count + 1),
                          period_start=period[0], period_end=period[1],
                          payment_intent=None, charge=None, paid=False, attempted=False,
                          attempt_count=0, next_payment_attempt=None,
                          collection_method='charge_automatically',
                          auto_advance=True, metadata=dict(metadata or {}),
                          customer_email=self.s.objects['customers'][customer]['email'],
                          hosted_invoice_url=None, invoice_pdf=None,
                          status_transitions={'finalized_at': now, 'paid_at': None,
                                              'marked_uncollectible_at': None, 'voided_at': None},
                          lines=None)
        inv['hosted_invoice_url'] = self.s.base_url + '/i/' + inv['id']
        inv['invoice_pdf'] = self.s.base_url + '/i/' + inv['id'] + '/pdf'
        inv['lines'] = {'object': 'list', 'url': '/v1/invoices/%s/lines' % inv['id'],
                        'has_more': False, 'total_count': len(lines),
                        'data': [{'id': 'il_' + rand_suffix(24), 'object': 'line_item',
                                  'amount': p['unit_amount'] * q, 'currency': currency,
                                  'description': '%d × %s' % (q, p['nickname'] or p['product']),
                                  'price': public(copy.deepcopy(p)), 'quantity': q,
                                  'period': {'start': period[0], 'end': period[1]},
                                  'subscription': subscription,
                                  'type': 'subscription' if subscription else 'invoiceitem'}
                                 for p, q in lines]}
        inv['status'] = 'open'
        self.s.store('invoices', inv)
        return inv

    def pay_invoice(self, inv, description=None, force=False):
        """Attempts the invoice: True when it got paid (force: the card was just taken)."""
        inv['attempted'] = True
        inv['attempt_count'] += 1
        if inv['payment_intent'] is None and inv['amount_due'] > 0:
            pi = self.payment(inv['amount_due'], inv['currency'], inv['customer'], {},
                              description, status='requires_payment_method', invoice=inv['id'])
            inv['payment_intent'] = pi['id']
        if inv['customer'] in self.s.failing_customers and inv['amount_due'] > 0 and not force:
            pi = self.s.objects['payment_intents'][inv['payment_intent']]
            pi['status'] = 'requires_payment_method'
            pi['last_payment_error'] = {'type': 'card_error', 'code': 'card_declined',
                                        'decline_code': 'generic_decline',
                                        'message': 'Your card was declined.'}
            self.charge(pi, status='failed')
            if inv['attempt_count'] < MAX_PAYMENT_ATTEMPTS:
                inv['next_payment_attempt'] = self.s.now() + RETRY_INTERVAL
            else:
                inv['next_payment_attempt'] = None
            return False
        if inv['payment_intent']:
            pi = self.s.objects['payment_intents'][inv['payment_intent']]
            pi['last_payment_error'] = None
            ch = self.charge(pi)
            inv['charge'] = ch['id']
        inv['status'] = 'paid'
        inv['paid'] = True
        inv['amount_paid'] = inv['amount_due']
        inv['amount_remaining'] = 0
        inv['next_payment_attempt'] = None
        inv['status_transitions']['paid_at'] = self.s.now()
        return True

    # -- checkout completion

    def complete_session(self, session, outcome='paid', email=None):
        if session['status'] != 'open':
            raise ControlError(409, 'the Checkout Session is %s, not open' % session['status'])
        if outcome not in ('paid', 'async'):
            raise ControlError(400, 'outcome must be paid or async')
        if outcome == 'async' and session['mode'] != 'payment':
            raise ControlError(400, 'async payments are modelled in payment mode only')
        email = email or session['customer_email']
        if session['customer']:
            email = self.s.objects['customers'][session['customer']]['email'] or email
        email = email or 'buyer-%s@example.invalid' % rand_suffix(6).lower()
        lines = [(self.s.objects['prices'][l['price']], l['quantity']) for l in session['_lines']]
        if session['customer'] is None and (
                session['mode'] == 'subscription' or session['customer_creation'] == 'always' or
                session['invoice_creation']['enabled']):
            session['customer'] = self.new_customer(email)['id']
        session['customer_details'] = {'email': email, 'name': None, 'phone': None,
                                       'address': None, 'tax_exempt': 'none', 'tax_ids': []}
        session['status'] = 'complete'
        coupon = self.s.objects['coupons'].get(session['discounts'][0]['coupon']) \
            if session['discounts'] else None
        if coupon:
            coupon['times_redeemed'] += 1
        if session['mode'] == 'payment':
            pi = self.payment(session['amount_total'], session['currency'], session['customer'],
                              session['_pi_metadata'],
                              status='processing' if outcome == 'async' else 'succeeded')
            session['payment_intent'] = pi['id']
            inv = None
            if session['invoice_creation']['enabled']:
                inv = self.invoice(session['customer'], session['currency'], lines, 'manual',
                                   discount=session['total_details']['amount_discount'])
                inv['payment_intent'] = pi['id']
                pi['invoice'] = inv['id']
                session['invoice'] = inv['id']
            if outcome == 'async':
                self.s.emit('payment_intent.processing', pi)
                if inv:
                    self.s.emit('invoice.created', inv)
                self.s.emit('checkout.session.completed', session)
                return session
            ch = self.s.objects['charges'][pi['latest_charge']]
            session['payment_status'] = 'paid'
            self.s.emit('payment_intent.succeeded', pi)
            self.s.emit('charge.succeeded', ch)
            if inv:
                self.pay_invoice(inv, force=True)
                self.s.emit('invoice.created', inv)
                self.s.emit('invoice.paid', inv)
                self.s.emit('invoice.payment_succeeded', inv)
            self.s.emit('checkout.session.completed', session)
            return session
        # subscription mode
        now = self.s.now()
        recurring = [p for p, _ in lines if p['recurring']]
        interval = recurring[0]['recurring']
        anchor_day = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).day
        end = add_interval(now, interval['interval'], interval['interval_count'], anchor_day)
        sub = self.s.base('sub_', 'subscription', status='active',
                          customer=session['customer'], currency=session['currency'],
                          current_period_start=now, current_period_end=end,
                          billing_cycle_anchor=now, start_date=now,
                          cancel_at_period_end=False, cancel_at=None, canceled_at=None,
                          ended_at=None, cancellation_details={'comment': None,
                                                               'feedback': None,
                                                               'reason': None},
                          collection_method='charge_automatically', days_until_due=None,
                          default_payment_method='pm_' + rand_suffix(24),
                          description=None, discount=None, discounts=[],
                          metadata=dict(session['_subscription_metadata']),
                          latest_invoice=None, items=None, plan=None, quantity=None,
                          trial_start=None, trial_end=None, pause_collection=None)
        sub['items'] = {'object': 'list', 'url': '/v1/subscription_items?subscription=' +
                        sub['id'], 'has_more': False, 'total_count': len(lines),
                        'data': [{'id': self.s.new_id('si_'), 'object': 'subscription_item',
                                  'created': now, 'metadata': {}, 'subscription': sub['id'],
                                  'price': public(copy.deepcopy(p)), 'plan': plan_of(p),
                                  'quantity': q, 'current_period_start': now,
                                  'current_period_end': end} for p, q in lines]}
        sub['plan'] = sub['items']['data'][0]['plan']
        sub['quantity'] = sub['items']['data'][0]['quantity']
        sub['_anchor_day'] = anchor_day
        sub['_interval'] = (interval['interval'], interval['interval_count'])
        if coupon:
            sub['discount'] = {'object': 'discount', 'coupon': public(copy.deepcopy(coupon)),
                               'start': now, 'end': None, 'customer': sub['customer'],
                               'subscription': sub['id']}
            sub['_coupon'] = coupon['id']
            sub['_discounted_periods'] = 1
        self.s.store('subscriptions', sub)
        inv = self.invoice(sub['customer'], sub['currency'], lines, 'subscription_create',
                           subscription=sub['id'], period=(now, end),
                           discount=session['total_details']['amount_discount'])
        sub['latest_invoice'] = inv['id']
        self.pay_invoice(inv, force=True)  # checkout took the card: the first invoice is paid
        session['subscription'] = sub['id']
        session['invoice'] = inv['id']
        session['payment_status'] = 'paid'
        self.s.emit('customer.subscription.created', sub)
        self.s.emit('invoice.created', inv)
        self.s.emit('invoice.paid', inv)
        self.s.emit('invoice.payment_succeeded', inv)
        self.s.emit('checkout.session.completed', session)
        return session

    def async_result(self, session, succeeded):
        if session['status'] != 'complete' or session['mode'] != 'payment' or \
                session['payment_status'] != 'unpaid' or not session['payment_intent']:
            raise ControlError(409, 'the Checkout Session has no payment waiting')
        pi = self.s.objects['payment_intents'][session['payment_intent']]
        if pi['status'] != 'processing':
            raise ControlError(409, 'the payment is %s, not processing' % pi['status'])
        inv = self.s.objects['invoices'].get(session['invoice']) if session['invoice'] else None
        if succeeded:
            ch = self.charge(pi)
            session['payment_status'] = 'paid'
            self.s.emit('payment_intent.succeeded', pi)
            self.s.emit('charge.succeeded', ch)
            if inv:
                self.pay_invoice(inv, force=True)
                self.s.emit('invoice.paid', inv)
                self.s.emit('invoice.payment_succeeded', inv)
            self.s.emit('checkout.session.async_payment_succeeded', session)
        else:
            pi['status'] = 'requires_payment_method'
            pi['last_payment_error'] = {'type': 'card_error', 'code': 'payment_method_provider_'
                                        'decline', 'message': 'The payment was declined.'}
            ch = self.charge(pi, status='failed')
            self.s.emit('payment_intent.payment_failed', pi)
            self.s.emit('charge.failed', ch)
            self.s.emit('checkout.session.async_payment_failed', session)
        return session

    def expire_session(self, session):
        session['status'] = 'expired'
        session['url'] = None
        self.s.emit('checkout.session.expired', session)

    # -- subscriptions over time

    def end_subscription(self, sub, reason):
        now = self.s.now()
        sub['status'] = 'canceled'
        sub['canceled_at'] = sub['canceled_at'] or now
        sub['ended_at'] = now
        sub['cancellation_details']['reason'] = reason
        for inv in self.s.objects['invoices'].values():
            if inv['subscription'] == sub['id'] and inv['status'] == 'open':
                inv['next_payment_attempt'] = None
        self.s.emit('customer.subscription.deleted', sub)

    def renew(self, sub):
        if sub['cancel_at_period_end']:
            self.end_subscription(sub, 'cancellation_requested')
            return
        old = {'current_period_start': sub['current_period_start'],
               'current_period_end': sub['current_period_end'],
               'latest_invoice': sub['latest_invoice']}
        start = sub['current_period_end']
        interval, count = sub['_interval']
        end = add_interval(start, interval, count, sub['_anchor_day'])
        sub['current_period_start'], sub['current_period_end'] = start, end
        for it in sub['items']['data']:
            it['current_period_start'], it['current_period_end'] = start, end
        lines = [(self.s.objects['prices'][it['price']['id']], it['quantity'])
                 for it in sub['items']['data']]
        subtotal = sum(p['unit_amount'] * q for p, q in lines)
        discount = 0
        coupon = self.s.objects['coupons'].get(sub.get('_coupon'))
        if coupon and (coupon['duration'] == 'forever' or (
                coupon['duration'] == 'repeating' and
                sub['_discounted_periods'] < coupon['duration_in_months'])):
            discount = discount_amount(coupon, subtotal, sub['currency'])
            sub['_discounted_periods'] += 1
        elif coupon:
            sub['discount'] = None
            sub['_coupon'] = None
        inv = self.invoice(sub['customer'], sub['currency'], lines, 'subscription_cycle',
                           subscription=sub['id'], period=(start, end), discount=discount)
        sub['latest_invoice'] = inv['id']
        paid = self.pay_invoice(inv)
        self.s.emit('invoice.created', inv)
        if paid:
            if sub['status'] != 'active':
                old['status'] = sub['status']
                sub['status'] = 'active'
            self.s.emit('invoice.paid', inv)
            self.s.emit('invoice.payment_succeeded', inv)
            self.s.emit('customer.subscription.updated', sub, old)
        else:
            self.s.emit('invoice.payment_failed', inv)
            if sub['status'] != 'past_due':
                old['status'] = sub['status']
                sub['status'] = 'past_due'
            self.s.emit('customer.subscription.updated', sub, old)

    def retry(self, inv):
        sub = self.s.objects['subscriptions'].get(inv['subscription'])
        paid = self.pay_invoice(inv)
        if paid:
            self.s.emit('invoice.paid', inv)
            self.s.emit('invoice.payment_succeeded', inv)
            if sub and sub['status'] == 'past_due' and not any(
                    i['status'] == 'open' for i in self.s.objects['invoices'].values()
                    if i['subscription'] == sub['id']):
                sub['status'] = 'active'
                self.s.emit('customer.subscription.updated', sub, {'status': 'past_due'})
            return
        self.s.emit('invoice.payment_failed', inv)
        if inv['next_payment_attempt'] is None and sub and sub['status'] != 'canceled':
            self.end_subscription(sub, 'payment_failed')

    def due(self):
        """The earliest thing due at or before now: (time, order, action) or None."""
        best = None
        for s in self.s.objects['checkout_sessions'].values():
            if s['status'] == 'open':
                cand = (s['expires_at'], s['_seq'], lambda s=s: self.expire_session(s))
                best = cand if best is None or cand[:2] < best[:2] else best
        for sub in self.s.objects['subscriptions'].values():
            if sub['status'] in ('active', 'past_due'):
                cand = (sub['current_period_end'], sub['_seq'], lambda sub=sub: self.renew(sub))
                best = cand if best is None or cand[:2] < best[:2] else best
        for inv in self.s.objects['invoices'].values():
            if inv['status'] == 'open' and inv['next_payment_attempt'] is not None:
                cand = (inv['next_payment_attempt'], inv['_seq'],
                        lambda inv=inv: self.retry(inv))
                best = cand if best is None or cand[:2] < best[:2] else best
        return best

    def advance(self, seconds):
        target = self.s.now() + seconds
        while True:
            item = self.due()
            if item is None or item[0] > target:
                break
            # Run it at its own time (the clock never goes backwards).
            self.s.clock = max(self.s.clock, item[0])
            item[2]()
        self.s.clock = max(self.s.clock, target)


# ---------------------------------------------------------------------------- HTTP

class Dropped(Exception):
    """Close the connection without an answer."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'LocalStripe/1.0'

    def log_message(self, fmt, *args):
        sys.stderr.write('%s %s\n' % (self.address_string(), fmt % args))

    @property
    def state(self):
        return self.server.state

    def do_GET(self):
        self.dispatch('GET')

    def do_POST(self):
        self.dispatch('POST')

    def do_DELETE(self):
        self.dispatch('DELETE')

    def do_PUT(self):
        self.dispatch('PUT')

    def do_PATCH(self):
        self.dispatch('PATCH')

    # -- plumbing

    def send(self, status, data, content_type='application/json', headers=None):
        if isinstance(data, (dict, list)):
            data = json.dumps(data, indent=2).encode()
        elif isinstance(data, str):
            data = data.encode()
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def read_body(self):
        text = self.headers.get('Content-Length')
        if text is None:
            if self.headers.get('Transfer-Encoding'):
                self.close_connection = True
                raise StripeError(411, 'Content-Length is required.')
            return b''
        if not re.fullmatch(r'\d{1,15}', text):
            self.close_connection = True
            raise StripeError(400, 'Malformed Content-Length.')
        n = int(text)
        if n > MAX_BODY:
            self.close_connection = True
            raise StripeError(413, 'Request body too large: at most %d bytes.' % MAX_BODY)
        data = b''
        while len(data) < n:
            part = self.rfile.read(n - len(data))
            if not part:
                raise Dropped()
            data += part
        return data

    def dispatch(self, method):
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path.startswith('/v1/') or path == '/v1':
                self.api(method, path)
            elif path.startswith('/_control/') or path == '/_control':
                self.control(method, path)
            else:
                self.pages(method, path)
        except Dropped:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True

    # -- the API

    def api(self, method, path):
        s = self.state
        request_id = 'req_' + rand_suffix(14)
        version = self.headers.get('Stripe-Version')
        key = self.headers.get('Idempotency-Key')
        headers = {'Request-Id': request_id,
                   'Stripe-Version': version or s.webhook['api_version']}
        if key is not None and method == 'POST':
            headers['Idempotency-Key'] = key
        log = {'method': method, 'path': path, 'idempotency_key': key, 'status': 0,
               'request_id': request_id, 'replayed': False}
        held_key = None
        fault = None
        try:
            try:
                body = self.read_body()
                self.check_auth()
                if version is not None:
                    if not VERSION_RE.fullmatch(version):
                        raise StripeError(400, 'Invalid Stripe API version: %s' % version,
                                          param='Stripe-Version')
                    with s.lock:
                        s.versions[version] += 1
                query = urllib.parse.urlsplit(self.path).query
                params = parse_params(query)
                if method == 'POST' and body:
                    ctype = (self.headers.get('Content-Type') or '').split(';')[0].strip().lower()
                    if ctype != 'application/x-www-form-urlencoded':
                        raise StripeError(400, 'Invalid request: unsupported Content-Type %s. '
                                          'If error persists and you need assistance, please '
                                          'contact support@stripe.com.' % (ctype or '(none)'))
                    try:
                        text = body.decode('utf-8')
                    except UnicodeDecodeError:
                        raise StripeError(400, 'Invalid request: the body is not UTF-8.')
                    params.update(parse_params(text))
                if key is not None and method == 'POST':
                    if len(key) > 255 or key == '':
                        raise StripeError(400, 'Idempotency-Key must be between 1 and 255 '
                                          'characters.', param='Idempotency-Key')
                    with s.lock:
                        s.key_uses[key] += 1
                else:
                    key = None
                fault = self.take_fault(method, path)
                if fault:
                    self.pre_fault(fault, key, log)
                if key is not None:
                    with s.lock:
                        kept = s.idempotency.get(key)
                        if key in s.in_flight:
                            raise in_use(key)
                        if kept is not None:
                            if (kept['method'], kept['path'], kept['params']) != \
                                    (method, path, params):
                                raise StripeError(400, 'Keys for idempotent requests can only '
                                                  'be used with the same parameters they were '
                                                  'first used with. Try using a key other than '
                                                  "'%s' if you meant to execute a different "
                                                  'request.' % key, type='idempotency_error')
                            log['status'], log['replayed'] = kept['status'], True
                            log['request_id'] = kept['request_id']
                            self.send(kept['status'], kept['body'], headers=dict(
                                kept['headers'], **{'Idempotent-Replayed': 'true'}))
                            return
                        s.in_flight.add(key)
                        held_key = key
                if fault and fault['kind'] == 'delay':
                    time.sleep(fault.get('ms', 0) / 1000.0)
                status, result = self.apply(method, path, params, request_id, key)
            except StripeError as e:
                status, result = e.status, e.body()
                headers.update(e.headers)
                if getattr(e, 'store', False) and key is not None:
                    with s.lock:
                        s.idempotency[key] = {'method': method, 'path': path, 'params': params,
                                              'status': status, 'body': result,
                                              'headers': headers, 'request_id': request_id}
            if held_key is not None:
                with s.lock:
                    s.in_flight.discard(held_key)
                    if status < 500:
                        s.idempotency[held_key] = {'method': method, 'path': path,
                                                   'params': params, 'status': status,
                                                   'body': result, 'headers': dict(headers),
                                                   'request_id': request_id}
            if fault is not None and fault['kind'] == 'drop_after_apply':
                raise Dropped()
            log['status'] = status
            self.send(status, result, headers=headers)
        finally:
            with s.lock:
                if held_key is not None:
                    s.in_flight.discard(held_key)
                s.requests.append(log)

    def check_auth(self):
        s = self.state
        value = self.headers.get('Authorization')
        if not value:
            raise StripeError(401, NO_KEY_MESSAGE)
        supplied = None
        m = re.fullmatch(r'Bearer\s+(\S+)', value.strip(), re.IGNORECASE)
        if m:
            supplied = m.group(1)
        else:
            m = re.fullmatch(r'Basic\s+(\S+)', value.strip(), re.IGNORECASE)
            if m:
                try:
                    supplied = base64.b64decode(m.group(1), validate=True).decode().split(':')[0]
                except (ValueError, UnicodeDecodeError):
                    supplied = ''
        if supplied is None:
            raise StripeError(401, NO_KEY_MESSAGE)
        if not hmac.compare_digest(supplied.encode(), s.args.secret_key.encode()):
            raise StripeError(401, 'Invalid API Key provided: %s' % mask_key(supplied))

    def take_fault(self, method, path):
        s = self.state
        with s.lock:
            for f in s.faults:
                p = f['path']
                if (p.endswith('*') and path.startswith(p[:-1])) or p == path:
                    if f.get('method') and f['method'].upper() != method:
                        continue
                    f['count'] -= 1
                    if f['count'] <= 0:
                        s.faults.remove(f)
                    return dict(f)
        return None

    def pre_fault(self, fault, key, log):
        kind = fault['kind']
        if kind == 'drop':
            raise Dropped()
        if kind == 'status':
            raise StripeError(fault.get('status', 500), 'An error occurred with our connection '
                              'to Stripe. (local fault)', type='api_error',
                              headers={'Stripe-Should-Retry': 'true'})
        if kind == 'in_use':
            raise in_use(key or '')
        if kind == 'rate_limit':
            raise StripeError(429, 'Request rate limit exceeded. Learn more about rate limits '
                              'here https://stripe.com/docs/rate-limits.', code='rate_limit')
        if kind == 'card_declined':
            e = StripeError(402, 'Your card was declined.', type='card_error',
                            code='card_declined', decline_code='generic_decline',
                            headers={'Stripe-Should-Retry': 'false'})
            e.store = True
            raise e

    def apply(self, method, path, params, request_id, key):
        s = self.state
        fn, groups = Api(s).route(method, path)
        if fn is None:
            raise StripeError(404, 'Unrecognized request URL (%s: %s). Please see '
                              'https://stripe.com/docs or we can help at '
                              'https://support.stripe.com/.' % (method, path))
        with s.lock:
            s.local.ctx = {'request_id': request_id, 'idempotency_key': key}
            try:
                # Objects are built in place: a failure must not leave half of one behind.
                snapshot = {c: dict(v) for c, v in s.objects.items()}
                try:
                    return fn(params, *groups)
                except StripeError:
                    s.objects = snapshot
                    raise
            finally:
                s.local.ctx = None

    # -- pages

    def pages(self, method, path):
        s = self.state
        m = re.fullmatch(r'/c/pay/([^/]+)', path)
        if m:
            raw = self.read_body() if method == 'POST' else b''
            with s.lock:
                session = s.objects['checkout_sessions'].get(m.group(1))
                if session is None:
                    return self.page(404, 'Not found', '<p>No such Checkout Session.</p>')
                if method == 'POST':
                    form = parse_params(raw.decode('utf-8', 'replace'))
                    if session['status'] != 'open':
                        return self.page(409, 'Not payable', '<p>This Checkout Session is %s.</p>'
                                         % html.escape(session['status']))
                    Engine(s).complete_session(session, 'paid', form.get('email') or None)
                    target = session['success_url'].replace('{CHECKOUT_SESSION_ID}',
                                                            session['id'])
                    return self.send(303, '', 'text/plain', {'Location': target})
                if method != 'GET':
                    return self.page(405, 'Method not allowed', '')
                lines = ''.join('<li>%d × %s</li>' % (
                    l['quantity'], html.escape(s.objects['products'][
                        s.objects['prices'][l['price']]['product']]['name']))
                    for l in session['_lines'])
                total = money(session['amount_total'], session['currency'])
                if session['status'] != 'open':
                    return self.page(200, 'Checkout', '<h1>Checkout</h1><p>This Checkout '
                                     'Session is %s.</p>' % html.escape(session['status']))
                cancel = ('<p><a href="%s">Cancel and go back</a></p>'
                          % html.escape(session['cancel_url'])) if session['cancel_url'] else ''
                body = ('<h1>Pay %s</h1><ul aria-label="Items">%s</ul>'
                        '<p>Total: <strong>%s</strong></p>'
                        '<form method="post"><label for="email">Email</label> '
                        '<input id="email" name="email" type="email" autocomplete="email" '
                        'value="%s"> <button type="submit">Pay</button></form>%s'
                        % (total, lines, total, html.escape(session['customer_email'] or ''),
                           cancel))
                return self.page(200, 'Pay %s' % total, body)
        m = re.fullmatch(r'/p/session/([^/]+)', path)
        if m and method == 'GET':
            with s.lock:
                ps = s.objects['portal_sessions'].get(m.group(1))
                if ps is None:
                    return self.page(404, 'Not found', '<p>No such portal session.</p>')
                subs = [x for x in s.objects['subscriptions'].values()
                        if x['customer'] == ps['customer']]
                items = ''.join('<li>%s: %s</li>' % (html.escape(x['id']),
                                                     html.escape(x['status'])) for x in subs)
                back = ('<p><a href="%s">Return</a></p>' % html.escape(ps['return_url'])
                        if ps['return_url'] else '')
                return self.page(200, 'Billing', '<h1>Billing</h1><ul aria-label='
                                 '"Subscriptions">%s</ul>%s' % (items, back))
        m = re.fullmatch(r'/i/([^/]+)(/pdf)?', path)
        if m and method == 'GET':
            with s.lock:
                inv = s.objects['invoices'].get(m.group(1))
                if inv is None:
                    return self.page(404, 'Not found', '<p>No such invoice.</p>')
                if m.group(2):
                    return self.send(200, b'%PDF-1.4\n% local Stripe invoice ' +
                                     inv['id'].encode() + b'\n%%EOF\n', 'application/pdf')
                return self.page(200, 'Invoice %s' % inv['number'],
                                 '<h1>Invoice %s</h1><p>Status: %s</p><p>Amount due: %s</p>'
                                 % (html.escape(inv['number']), html.escape(inv['status']),
                                    money(inv['amount_due'], inv['currency'])))
        return self.page(404, 'Not found', '<p>Not found.</p>')

    def page(self, status, title, body):
        text = ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                '<title>%s</title></head><body><main>%s</main></body></html>'
                % (html.escape(title), body))
        self.send(status, text, 'text/html; charset=utf-8')

    # -- controls

    def control(self, method, path):
        s = self.state
        try:
            raw = self.read_body()
        except StripeError as e:
            return self.send(e.status, {'error': e.error['message']})
        body = {}
        if raw and path != '/_control/sink':
            try:
                body = json.loads(raw)
            except ValueError:
                return self.send(400, {'error': 'the body is not JSON'})
            if not isinstance(body, dict):
                return self.send(400, {'error': 'the body must be a JSON object'})
        try:
            status, result = self.control_route(method, path, body, raw)
        except ControlError as e:
            status, result = e.status, {'error': e.message}
        except StripeError as e:
            status, result = e.status, e.body()
        except (KeyError, TypeError, ValueError) as e:
            status, result = 400, {'error': 'bad control input: %r' % (e,)}
        self.send(status, result)

    def control_route(self, method, path, body, raw):
        s = self.state
        m = re.fullmatch(r'/_control/checkout/([^/]+)/(complete|async_succeed|async_fail)', path)
        if m and method == 'POST':
            with s.lock:
                session = s.objects['checkout_sessions'].get(m.group(1))
                if session is None:
                    raise ControlError(404, 'no such Checkout Session')
                engine = Engine(s)
                if m.group(2) == 'complete':
                    engine.complete_session(session, body.get('outcome', 'paid'),
                                            body.get('email'))
                else:
                    engine.async_result(session, m.group(2) == 'async_succeed')
                return 200, public(copy.deepcopy(session))
        m = re.fullmatch(r'/_control/customers/([^/]+)/payments', path)
        if m and method == 'POST':
            with s.lock:
                if m.group(1) not in s.objects['customers']:
                    raise ControlError(404, 'no such customer')
                if body.get('fail'):
                    s.failing_customers.add(m.group(1))
                else:
                    s.failing_customers.discard(m.group(1))
                return 200, {'customer': m.group(1), 'fail': m.group(1) in s.failing_customers}
        route = (method, path)
        if route == ('GET', '/_control/state'):
            with s.lock:
                return 200, {
                    'now': s.now(),
                    'counts': {c: len(v) for c, v in s.objects.items()},
                    'idempotency_keys': dict(s.key_uses),
                    'stripe_versions': dict(s.versions),
                    'requests': list(s.requests),
                    'faults': list(s.faults),
                    'webhook': dict(s.webhook),
                    'failing_customers': sorted(s.failing_customers)}
        if route == ('POST', '/_control/faults'):
            faults = body.get('faults', [body])
            with s.lock:
                for f in faults:
                    kind = f.get('kind')
                    if kind not in ('status', 'drop', 'drop_after_apply', 'in_use',
                                    'card_declined', 'rate_limit', 'delay'):
                        raise ControlError(400, 'unknown fault kind %r' % kind)
                    if not isinstance(f.get('path'), str) or not f['path'].startswith('/v1'):
                        raise ControlError(400, 'a fault needs a path starting with /v1')
                    s.faults.append({'path': f['path'], 'method': f.get('method'),
                                     'kind': kind, 'status': int(f.get('status', 500)),
                                     'count': int(f.get('count', 1)),
                                     'ms': int(f.get('ms', 0))})
                return 200, {'faults': list(s.faults)}
        if route == ('GET', '/_control/faults'):
            with s.lock:
                return 200, {'faults': list(s.faults)}
        if route == ('DELETE', '/_control/faults'):
            with s.lock:
                s.faults = []
                return 200, {'faults': []}
        if route == ('GET', '/_control/clock'):
            with s.lock:
                return 200, {'now': s.now()}
        if route == ('POST', '/_control/clock/advance'):
            seconds = body.get('seconds')
            if not isinstance(seconds, int) or seconds < 0:
                raise ControlError(400, 'seconds must be a non-negative integer')
            with s.lock:
                s.local.ctx = None
                Engine(s).advance(seconds)
                return 200, {'now': s.now()}
        if route == ('POST', '/_control/webhook'):
            with s.lock:
                for k in ('url', 'secret', 'also_sign_with', 'api_version'):
                    if k in body:
                        if not isinstance(body[k], str):
                            raise ControlError(400, '%s must be a string' % k)
                        s.webhook[k] = body[k]
                for k in ('duplicate', 'reverse', 'hold'):
                    if k in body:
                        s.webhook[k] = bool(body[k])
                if 'max_attempts' in body:
                    n = body['max_attempts']
                    if not isinstance(n, int) or n < 1:
                        raise ControlError(400, 'max_attempts must be a positive integer')
                    s.webhook['max_attempts'] = n
                return 200, dict(s.webhook)
        if route == ('GET', '/_control/webhook'):
            with s.lock:
                return 200, dict(s.webhook)
        if route == ('POST', '/_control/webhook/flush'):
            with s.lock:
                return 200, {'flushed': s.flush()}
        if route == ('GET', '/_control/webhook/deliveries'):
            with s.lock:
                return 200, {'deliveries': list(s.deliveries)}
        if route == ('POST', '/_control/webhook/wait'):
            timeout = float(body.get('timeout_s', 10))
            with s.cond:
                done = s.cond.wait_for(s.idle, timeout)
                return (200 if done else 504), {'deliveries': list(s.deliveries),
                                                'pending': len(s.pending) + s.delivering,
                                                'held': len(s.held)}
        if route == ('POST', '/_control/sink'):
            return self.sink(raw)
        if route == ('GET', '/_control/sink'):
            with s.lock:
                return 200, {'received': list(s.sink)}
        if route == ('POST', '/_control/sink/fail'):
            with s.lock:
                s.sink_fail = {'count': int(body.get('count', 1)),
                               'status': int(body.get('status', 500))}
                return 200, dict(s.sink_fail)
        if route == ('POST', '/_control/sink/clear'):
            with s.lock:
                s.sink = []
                return 200, {'received': []}
        raise ControlError(404, 'no such control: %s %s' % (method, path))

    def sink(self, raw):
        s = self.state
        header = self.headers.get('Stripe-Signature') or ''
        try:
            event = json.loads(raw)
        except ValueError:
            event = None
        with s.lock:
            ok = verify_signature(raw, header, s.webhook['secret'])
            status = 200
            if s.sink_fail['count'] > 0:
                s.sink_fail['count'] -= 1
                status = s.sink_fail['status']
            s.sink.append({'headers': {k: v for k, v in self.headers.items()},
                           'body': raw.decode('utf-8', 'replace'), 'event': event,
                           'status': status, 'signature_ok': ok})
        if status != 200:
            return status, {'error': 'the sink was told to fail'}
        return 200, {'received': True}


def in_use(key):
    return StripeError(409, 'There is currently another in-progress request using this '
                       'Idempotent Key (that probably means you submitted twice, and the other '
                       'request is still going through): %s. Please try again later.' % key,
                       code='idempotency_key_in_use')


def mask_key(key):
    m = re.match(r'((?:sk|rk|pk)_(?:test|live)_)(.*)', key)
    prefix, rest = (m.group(1), m.group(2)) if m else ('', key)
    if len(rest) <= 4:
        return prefix + '*' * len(rest)
    return prefix + '*' * (len(rest) - 4) + rest[-4:]


def verify_signature(payload, header, secret, tolerance=300):
    items = [p.split('=', 1) for p in header.split(',') if '=' in p]
    ts = [v for k, v in items if k == 't']
    sigs = [v for k, v in items if k == 'v1']
    if len(ts) != 1 or not ts[0].isdigit() or not sigs or not secret:
        return False
    if abs(time.time() - int(ts[0])) > tolerance:
        return False
    expected = hmac.new(secret.encode(), ts[0].encode() + b'.' + payload,
                        hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for v in sigs)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--port-file')
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--secret-key', required=True)
    ap.add_argument('--webhook-secret', required=True)
    ap.add_argument('--webhook-url', default='')
    args = ap.parse_args()
    server = Server((args.host, args.port), Handler)
    port = server.server_address[1]
    server.state = State(args, 'http://%s:%d' % (args.host, port))
    if args.port_file:
        tmp = args.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % port)
        os.replace(tmp, args.port_file)
    sys.stderr.write('local Stripe on http://%s:%d\n' % (args.host, port))
    server.serve_forever()


if __name__ == '__main__':
    main()
