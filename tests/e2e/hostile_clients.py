#!/usr/bin/env python3
"""Hostile clients against a live transit-hubd (run by hostile_clients.sh).

Usage: hostile_clients.py PORT ADMIN_TOKEN_FILE READ_TOKEN_FILE MAX_CONNECTIONS

Each scenario is what an attacker (or a broken client) does on the wire; each checks what the
hub answers (the documented error shape), that a well-behaved client is served meanwhile, and
that nothing changed. Prints "ok: ..." per check; the first failure prints "FAIL: ..." and exits 1.
Only 127.0.0.1 is used.
"""

import json
import resource
import select
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
PORT = int(sys.argv[1])
ADMIN = open(sys.argv[2]).read().strip()
READ = open(sys.argv[3]).read().strip()
MAX_CONNECTIONS = int(sys.argv[4])
SERVED_WITHIN = 2.0  # seconds: a normal request is answered in about a millisecond


def ok(what):
    print(f"ok: {what}", flush=True)


def fail(what):
    print(f"FAIL: {what}", flush=True)
    sys.exit(1)


def connect(timeout=5.0):
    sock = socket.create_connection((HOST, PORT), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock, head_only=False):
    """One HTTP/1.1 response: (status, headers dict lower-case, body bytes). Raises on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} bytes")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        rest += chunk
    return status, headers, rest[:length]


def request(method, path, body=b"", token=ADMIN, headers=None, sock=None):
    """Sends one request (on `sock`, or a new connection) and returns (status, headers, body)."""
    own = sock is None
    if own:
        sock = connect()
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{PORT}"]
        if token is not None:
            lines.append(f"Authorization: Bearer {token}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
            if not any(n.lower() == "content-type" for n in (headers or {})):
                lines.append("Content-Type: application/json")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return read_response(sock, head_only=(method == "HEAD"))
    finally:
        if own:
            sock.close()


def expect_error(what, answer, status, code):
    """`answer` is the documented error: the status, and {"error": {"code", "message"}}."""
    got_status, headers, body = answer
    if got_status != status:
        fail(f"{what}: expected {status}, got {got_status}: {body[:300]!r}")
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        fail(f"{what}: expected the error shape, got {body[:300]!r}")
    if error.get("code") != code or not isinstance(error.get("message"), str):
        fail(f"{what}: expected code {code} with a message, got {error}")
    if headers.get("content-type") != "application/json":
        fail(f"{what}: expected application/json, got {headers.get('content-type')}")
    ok(f"{what}: {status} {code}")
    return error


def spokes():
    """The spokes as the API holds them: name and generation (status moves on its own)."""
    status, _, body = request("GET", "/v1/spokes", token=READ)
    if status != 200:
        fail(f"GET /v1/spokes answers 200 (got {status})")
    return sorted((s["name"], s["generation"]) for s in json.loads(body)["spokes"])


def timed_get(path="/v1/spokes"):
    start = time.monotonic()
    status, _, _ = request("GET", path, token=READ)
    return status, time.monotonic() - start


def served_meanwhile(what, count=20):
    """A well-behaved client's requests are answered, each within SERVED_WITHIN."""
    worst = 0.0
    for _ in range(count):
        status, elapsed = timed_get()
        if status != 200:
            fail(f"{what}: a normal GET answers 200 (got {status})")
        worst = max(worst, elapsed)
    if worst > SERVED_WITHIN:
        fail(f"{what}: a normal GET answers within {SERVED_WITHIN} s (slowest {worst:.3f} s)")
    ok(f"{what}: {count} normal GETs served, slowest {worst * 1000:.1f} ms")


def metric(name):
    status, _, body = request("GET", "/metrics", token=READ)
    if status != 200:
        fail(f"/metrics answers 200 (got {status})")
    total = 0.0
    found = False
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
            found = True
    if not found:
        fail(f"/metrics has {name}")
    return total


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    fail(f"{what} (not within {timeout} s)")


# ---- the state every scenario must leave alone

SPOKE = {"name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16"], "asn": 64512,
         "tunnels": [{"outside_ip": "198.51.100.10"}]}
status, _, body = request("POST", "/v1/spokes", json.dumps(SPOKE).encode())
if status != 201:
    fail(f"creating prod-a answers 201 (got {status}: {body!r})")
BEFORE = spokes()
ok("one spoke to protect")


def unchanged(what):
    now = spokes()
    if now != BEFORE:
        fail(f"{what}: the spokes changed (before {BEFORE}, now {now})")
    ok(f"{what}: nothing changed")


# ---- every auth mistake: 401 (WWW-Authenticate: Bearer) or 403, before any body is read

for label, value in [
    ("no Authorization", None),
    ("an empty bearer", "Bearer "),
    ("another scheme", f"Basic {ADMIN}"),
    ("a token the hub does not know", "Bearer " + "0" * 64),
    ("the token's hash instead of the token", "Bearer " + "a" * 64),
    ("a token cut short", f"Bearer {ADMIN[:-1]}"),
    ("the scheme without a space", f"Bearer{ADMIN}"),
]:
    headers = {} if value is None else {"Authorization": value}
    answer = request("POST", "/v1/spokes", json.dumps({**SPOKE, "name": "evil"}).encode(),
                     token=None, headers=headers)
    expect_error(f"POST with {label}", answer, 401, "unauthorized")
    if answer[1].get("www-authenticate") != "Bearer":
        fail(f"POST with {label}: expected WWW-Authenticate: Bearer")
expect_error("a token in the query string", request("GET", f"/v1/spokes?token={ADMIN}", token=None),
             401, "unauthorized")
for method, path in [("POST", "/v1/spokes"), ("PUT", "/v1/spokes/prod-a"),
                     ("DELETE", "/v1/spokes/prod-a")]:
    expect_error(f"{method} with a read token", request(method, path, b"{}", token=READ), 403,
                 "forbidden")
# A huge announced body from nobody: refused on the header, at once, the body never sent.
sock = connect()
sock.sendall(b"POST /v1/spokes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: 1000000\r\n\r\n")
start = time.monotonic()
answer = read_response(sock)
sock.close()
expect_error("an anonymous 1 MB upload announced and not sent", answer, 401, "unauthorized")
if time.monotonic() - start > SERVED_WITHIN:
    fail("the anonymous upload is refused before its body (it waited for the body)")
unchanged("auth mistakes")

# ---- oversized headers and bodies

expect_error("a 20 KiB header", request("GET", "/v1/spokes", token=READ,
                                        headers={"X-Big": "b" * 20000}), 431, "header_too_large")
expect_error("a 2 MiB body", request("POST", "/v1/spokes", b" " * (2 * 1024 * 1024)), 413,
             "payload_too_large")
sock = connect()
sock.sendall(f"POST /v1/spokes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n"
             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
try:
    for _ in range(40):  # 40 x 64 KiB chunks: over the limit while it is still being sent
        sock.sendall(b"10000\r\n" + b" " * 0x10000 + b"\r\n")
except OSError:
    pass  # the hub answered and closed: the answer is still there to read
expect_error("a chunked body over 1 MiB", read_response(sock), 413, "payload_too_large")
sock.close()
sock = connect()
sock.sendall(f"POST /v1/spokes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n"
             "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n".encode() +
             b"".join(b"X-T-%d: %s\r\n" % (i, b"t" * 60) for i in range(2000)) + b"\r\n")
expect_error("a 150 KB trailer", read_response(sock), 400, "bad_request")
sock.close()
unchanged("oversized requests")

# ---- bodies that are JSON only in name

for label, body in [
    ("JSON nested 100 levels", "[" * 100 + "]" * 100),
    ("invalid UTF-8", '{"name": "\xff\xfe"}'.encode("latin-1")),
    ("a duplicate key", json.dumps(SPOKE)[:-1] + ', "name": "evil"}'),
    ("JSON cut short", json.dumps(SPOKE)[:40]),
]:
    data = body if isinstance(body, bytes) else body.encode()
    error = expect_error(f"a body with {label}", request("POST", "/v1/spokes", data), 400,
                         "malformed_json")
    if label == "a duplicate key" and '"name"' not in error["message"]:
        fail(f"the duplicate key is named (got {error['message']})")
huge = json.dumps({**SPOKE, "name": "huge", "note": "n" * (1024 * 1024 - 300)}).encode()
expect_error("a huge body with an unknown field", request("POST", "/v1/spokes", huge), 422,
             "invalid_field")
unchanged("hostile bodies")

# ---- slowloris: connections that send a byte at a time cannot hold the hub

slow = []
for _ in range(50):
    s = connect()
    s.sendall(b"G")
    slow.append(s)
closed = [False] * len(slow)


def drip(index, sock):
    try:
        for byte in b"ET /v1/spokes HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100:
            time.sleep(0.5)
            sock.sendall(bytes([byte]))
    except OSError:
        closed[index] = True


threads = [threading.Thread(target=drip, args=(i, s), daemon=True) for i, s in enumerate(slow)]
for t in threads:
    t.start()
served_meanwhile("50 slowloris connections")
start = time.monotonic()
wait_for("the hub closes slowloris connections after its 10 s header timeout",
         lambda: all(closed), 20)
ok(f"all 50 slowloris connections closed by the hub ({time.monotonic() - start:.1f} s after the "
   "check began)")
for s in slow:
    s.close()

# ---- 2,000 idle connections, and the connection limit

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
idle = [connect() for _ in range(2000)]
wait_for("the hub holds 2,000 idle connections",
         lambda: metric("transit_hub_api_connections") >= 2000, 10)
ok("2,000 idle connections open")
served_meanwhile("2,000 idle connections")
# Up to the limit and past it: the rest get 503 too_many_connections and are closed.
extra = [connect() for _ in range(MAX_CONNECTIONS - 2000 + 50)]
time.sleep(1.0)  # the hub answers a refused connection at once
refused = 0
poller = select.poll()  # select() stops at descriptor 1024
for s in extra:
    poller.register(s, select.POLLIN)
by_fd = {s.fileno(): s for s in extra}
for fd, _ in poller.poll(0):
    s = by_fd[fd]
    s.settimeout(2.0)
    try:
        answer = read_response(s)
    except (ConnectionError, OSError):
        continue  # reset before the answer could be read: not counted here
    if refused == 0:
        expect_error("a connection beyond api.max_connections", answer, 503,
                     "too_many_connections")
        if answer[1].get("retry-after") != "1":
            fail("the refusal says Retry-After: 1")
    if answer[0] == 503:
        refused += 1
if refused < 40:
    fail(f"connections beyond the limit are refused (expected about 50, got {refused})")
ok(f"{refused} connections beyond api.max_connections {MAX_CONNECTIONS} refused with 503")
for s in idle + extra:
    s.close()
wait_for("closed connections leave the hub's count",
         lambda: metric("transit_hub_api_connections") <= 5, 10)
served_meanwhile("after the idle connections closed")
refused_metric = metric('transit_hub_api_connections_refused_total{reason="limit"}')
if refused_metric < refused:
    fail(f"the refusals are counted (expected >= {refused}, got {refused_metric})")
ok(f"transit_hub_api_connections_refused_total{{reason=\"limit\"}} = {refused_metric:.0f}")
unchanged("all of it")
print("hostile clients: every check passed", flush=True)
