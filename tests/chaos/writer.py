#!/usr/bin/env python3
"""A stream of API writes for the crash trials (tests/chaos/crash_trials.sh).

Creates, replaces and deletes the spokes c-1..c-N (vpc, BGP, segment prod, two tunnels to
unanswered outside addresses) as fast as the hub answers, and keeps a model of what the hub
acknowledged. A write that got no answer (the hub was killed) is "in doubt": its spoke may be in
the state before or after it, and nothing else. Before each new write on a spoke in doubt, and
whenever the orchestrator asks for a pause, the writer reads the spoke back and fails if it is in
neither state (a torn or invented record). A write that was acknowledged and is later missing is
found by the orchestrator, which compares the hub with the model the writer saves.

Control, through files in DIR: the orchestrator creates DIR/pause; the writer finishes its
request, settles every doubt, writes DIR/model.json and creates DIR/paused; it goes on when
DIR/pause is removed. DIR/stop ends it. Failures go to DIR/failure (and exit 1).
Usage: writer.py API_URL TOKEN_FILE DIR SPOKES SEED
"""
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request

api, token_file, work, count, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
token = open(token_file).read().strip()
rng = random.Random(seed)
names = [f"c-{i}" for i in range(1, count + 1)]
# name -> None (absent) or {"generation": int, "cidrs": [...]} as acknowledged
model = {n: None for n in names}
doubt = {}  # name -> list of acceptable states (model values)
stats = {"acked": 0, "in_doubt": 0, "refused": 0}


def fail(message):
    with open(os.path.join(work, "failure"), "w") as f:
        f.write(message + "\n")
    sys.exit(1)


def request(method, path, body=None, if_match=None, timeout=5):
    """(status, json); "down" when the hub refused the connection (it never saw the request);
    None when the request may have reached it but got no answer."""
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if if_match is not None:
        headers["If-Match"] = f'"{if_match}"'
    req = urllib.request.Request(api + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, None
    except urllib.error.URLError as e:
        # Refused: the hub is down and never saw the request (nothing is in doubt).
        return "down" if isinstance(e.reason, ConnectionRefusedError) else None
    except ConnectionRefusedError:
        return "down"
    except (OSError, ConnectionError, ValueError):
        return None


def spoke_body(name, cidrs):
    i = int(name.split("-")[1])
    return {"name": name, "kind": "vpc", "cidrs": cidrs, "routing": "bgp", "asn": 64600 + i,
            "segment": "prod",
            "tunnels": [{"outside_ip": f"198.51.100.{100 + 2 * i}"},
                        {"outside_ip": f"198.51.100.{101 + 2 * i}"}]}


def cidr_choices(name):
    i = int(name.split("-")[1])
    return [[f"10.{100 + i}.0.0/16"], [f"10.{100 + i}.0.0/16", f"10.{150 + i}.0.0/16"]]


def read_back(name):
    """The spoke's state as the hub holds it (None: absent); waits while the hub is down."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = request("GET", f"/v1/spokes/{name}")
        if isinstance(answer, tuple) and answer[0] in (200, 404):
            status, body = answer
            if status == 404:
                return None
            return {"generation": body["generation"], "cidrs": body["cidrs"]}
        time.sleep(0.1)
    fail(f"{name}: the hub did not answer for 60 s")


def same(a, b):
    if a is None or b is None:
        return a is b
    return a["cidrs"] == b["cidrs"]


def settle(name):
    if name not in doubt:
        return
    actual = read_back(name)
    if not any(same(actual, candidate) for candidate in doubt[name]):
        fail(f"{name}: after a write in doubt the hub holds {actual}, which is neither "
             f"{doubt[name]}")
    model[name] = actual
    del doubt[name]


def save():
    tmp = os.path.join(work, "model.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"spokes": model, "stats": stats}, f)
    os.replace(tmp, os.path.join(work, "model.json"))


def one_write():
    name = rng.choice(names)
    settle(name)
    state = model[name]
    if state is None:
        cidrs = rng.choice(cidr_choices(name))
        answer = request("POST", "/v1/spokes", spoke_body(name, cidrs))
        after = {"generation": 0, "cidrs": cidrs}
        expect = 201
    elif rng.random() < 0.6:
        cidrs = [c for c in cidr_choices(name) if c != state["cidrs"]][0]
        answer = request("PUT", f"/v1/spokes/{name}", spoke_body(name, cidrs),
                         if_match=state["generation"])
        after = {"generation": 0, "cidrs": cidrs}
        expect = 200
    else:
        answer = request("DELETE", f"/v1/spokes/{name}", if_match=state["generation"])
        after = None
        expect = 204
    if answer == "down":
        time.sleep(0.05)
        return
    if answer is None:
        doubt[name] = [state, after]
        stats["in_doubt"] += 1
        time.sleep(0.05)
        return
    status, body = answer
    if status == expect:
        if after is not None:
            after["generation"] = body["generation"]
        model[name] = after
        stats["acked"] += 1
    elif status == 503:
        stats["refused"] += 1  # not taken (the store or the hub is starting): nothing changed
        doubt[name] = [state]
    else:
        fail(f"{name}: {expect} expected, got {status}: {body}")


def main():
    pause = os.path.join(work, "pause")
    paused = os.path.join(work, "paused")
    while not os.path.exists(os.path.join(work, "stop")):
        if os.path.exists(pause):
            for name in list(doubt):
                settle(name)
            save()
            open(paused, "w").close()
            while os.path.exists(pause) and not os.path.exists(os.path.join(work, "stop")):
                time.sleep(0.02)
            os.remove(paused)
            continue
        one_write()
    save()


main()
