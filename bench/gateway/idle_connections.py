#!/usr/bin/env python3
"""Opens N keep-alive connections to the gateway, sends one authenticated
request on each, holds them all idle for HOLD seconds, then sends a second
request on every one: every connection must still answer 200."""
import resource
import selectors
import socket
import sys
import time

port, count, route, token, hold = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                                   sys.argv[4], float(sys.argv[5]))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
request = (f"GET {route} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").encode()


def round_trip(socks):
    """Sends the request on every socket; counts complete 200 responses."""
    sel = selectors.DefaultSelector()
    pending = {}
    for s in socks:
        s.sendall(request)
        sel.register(s, selectors.EVENT_READ)
        pending[s] = b""
    ok, errors = 0, 0
    deadline = time.time() + 60
    while pending and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                errors += 1
                sel.unregister(s)
                del pending[s]
                continue
            pending[s] += data
            buf = pending[s]
            head, sep, body = buf.partition(b"\r\n\r\n")
            if not sep:
                continue
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if len(body) >= length:
                ok += head.startswith(b"HTTP/1.1 200")
                errors += not head.startswith(b"HTTP/1.1 200")
                sel.unregister(s)
                del pending[s]
    sel.close()
    return ok, errors + len(pending)


socks = []
connect_errors = 0
start = time.time()
for i in range(count):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        socks.append(s)
    except OSError as e:
        connect_errors += 1
    if i % 1000 == 999:
        ok, bad = round_trip(socks[-1000:])  # warm in batches to spare the backlog
        if bad:
            print(f"batch ending {i + 1}: {bad} failed")
print(f"opened {len(socks)} connections in {time.time() - start:.1f} s "
      f"({connect_errors} connect errors)")
time.sleep(hold)
ok, bad = round_trip(socks)
print(f"after {hold:.0f} s idle: {ok} answered 200, {bad} failed or closed")
for s in socks:
    s.close()
sys.exit(0 if ok == count and connect_errors == 0 else 1)
