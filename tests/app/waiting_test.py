#!/usr/bin/env python3
"""Sagas that wait, through the real binary: sleep and wait steps, signals
from input lines, from the HTTP API, from `nexus signal --to` a running
`nexus serve` and `--data-dir` a stopped one's log; a signal that comes
before its wait, a duplicate signal_id, a wait that times out and
compensates, signals refused for an unknown or an ended saga, and a saga
left waiting across a restart that ends once signalled.

Waits are conditions with deadlines (?wait on the HTTP API, or polling the
log); the sleeps and timeouts are the product's own, short.

Usage: waiting_test.py NEXUS SOURCE_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import communicate, expect, finish, free_port, http_call, stop_all, wait_for  # noqa: E402

work = tempfile.mkdtemp(prefix="nexus-waiting-")
data = os.path.join(work, "data")
procs = []

wf = os.path.join(work, "wf.json")
with open(wf, "w") as f:
    json.dump({"runtime": {"data_dir": data},
               "sagas": {"order": {"steps": [
                   {"name": "reserve", "action": {"kind": "simulate"},
                    "compensate": {"kind": "sleep", "ms": 50}},
                   {"name": "cool", "action": {"kind": "sleep", "ms": 200}},
                   {"name": "paid", "action": {"kind": "wait", "signal": "paid", "timeout_ms": 1500}},
                   {"name": "ship", "action": {"kind": "simulate"}}]},
                 "approval": {"steps": [
                   {"name": "approved", "action": {"kind": "wait", "signal": "approved"}},
                   {"name": "at", "action": {"kind": "sleep", "until": "/steps/approved/at"}}]}}}, f)


def events(cid):
    out = subprocess.run([nexus, "events", cid, "--data-dir", data, "--json"],
                         capture_output=True, text=True, timeout=60)
    return [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]


def types(cid):
    return [e["type"] + (":" + e["step"] if "step" in e else "") for e in events(cid)]


def status(cid):
    out = subprocess.run([nexus, "sagas", "--data-dir", data, "--json"], capture_output=True,
                         text=True, timeout=60)
    for l in out.stdout.splitlines():
        if l.startswith("{") and json.loads(l).get("cid") == cid:
            return json.loads(l)["status"]
    return None


def http(port, method, path, body=None):
    status, _, text = http_call(port, method, path, body)
    return status, json.loads(text or "null")


def signal(*args):
    return subprocess.run([nexus, "signal", *args], capture_output=True, text=True, timeout=60)


try:
    # 1. Input lines: a signal before its wait is kept; the same signal_id again is stored once;
    #    a saga never signalled times out at its wait and compensates (its compensation a sleep).
    lines = os.path.join(work, "in.jsonl")
    with open(lines, "w") as f:
        for l in [{"saga": "order", "correlation_id": "o1"},
                  {"signal": "paid", "correlation_id": "o1", "data": {"amount": 42}, "signal_id": "p1"},
                  {"signal": "paid", "correlation_id": "o1", "data": {"amount": 42}, "signal_id": "p1"},
                  {"saga": "order", "correlation_id": "o2"}]:
            f.write(json.dumps(l) + "\n")
    run = subprocess.Popen([nexus, "run", wf, "--input", lines], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    procs.append(run)
    out, err = communicate(run, "the input run ends", 60)
    expect(run.returncode == 0, f"the input run exits 0: {err.decode()[-400:]}")
    t1 = types("o1")
    expect(t1.count("signal_received") == 1, f"the duplicate signal_id is stored once: {t1}")
    expect(t1[-2:] == ["step_succeeded:ship", "saga_completed"], f"o1 completes: {t1}")
    paid = [e for e in events("o1") if e["type"] == "step_succeeded" and e.get("step") == "paid"]
    expect(paid and paid[0].get("output") == {"amount": 42} and paid[0].get("signal") == "paid",
           f"its wait's output is the signal's data: {paid}")
    ev2 = events("o2")
    failed = [e for e in ev2 if e["type"] == "step_failed"]
    expect(failed and failed[0]["error_kind"] == "timeout"
           and failed[0]["message"] == 'no signal "paid" came within 1500 ms',
           f"o2's wait times out: {failed}")
    expect([e["type"] for e in ev2][-1] == "saga_compensated", "o2 compensates")
    waited = [e for e in ev2 if e["type"] == "step_waiting" and e.get("step") == "reserve"]
    expect(len(waited) == 1 and waited[0].get("compensation") is True,
           "its compensation sleeps (step_waiting, compensation)")
    sleep = [e for e in ev2 if e.get("step") == "cool"]
    expect([e["type"] for e in sleep] == ["step_started", "step_waiting", "step_succeeded"],
           f"the sleep step waits, then succeeds: {sleep}")
    timeline = subprocess.run([nexus, "events", "o1", "--data-dir", data], capture_output=True,
                              text=True, timeout=60).stdout
    expect("signal paid" in timeline and 'signal_id "p1"' in timeline and "by signal paid" in timeline,
           f"nexus events shows the signal: {timeline}")

    # 2. A running nexus serve: HTTP and `nexus signal --to`.
    listen = free_port()
    serve = subprocess.Popen([nexus, "serve", wf, "--http", "127.0.0.1:0", "--listen",
                              f"127.0.0.1:{listen}", "--grace-seconds", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(serve)
    m, line = None, ""
    for _ in range(5): # the gateway's line may come first
        line = serve.stderr.readline().decode()
        m = re.search(r"http listening on 127\.0\.0\.1:(\d+)", line)
        if m or not line:
            break
    expect(m is not None, f"serve says where it listens: {line!r}")
    port = int(m.group(1)) if m else 0
    s, b = http(port, "POST", "/v1/sagas/approval", {"correlation_id": "a1"})
    expect(s == 201, f"a waiting saga starts: {s} {b}")
    s, b = http(port, "POST", "/v1/sagas/a1/signals/approved",
                {"data": {"at": "2000-01-01T00:00:00Z", "by": "ana"}, "signal_id": "ok-1"})
    expect((s, b.get("result")) == (200, "stored"), f"the HTTP signal is stored: {s} {b}")
    s, b = http(port, "POST", "/v1/sagas/a1/signals/approved", {"signal_id": "ok-1"})
    expect((s, b.get("result")) == (200, "duplicate"), f"the same signal_id is a duplicate: {s} {b}")
    s, b = http(port, "GET", "/v1/sagas/a1?wait=30")
    expect(b.get("status") == "completed", f"a1 completes, its sleep past: {b.get('status')}")
    s, b = http(port, "POST", "/v1/sagas/a1/signals/approved", {})
    expect(s == 409 and "has ended (completed)" in b.get("detail", ""), f"an ended saga refuses a signal: {s} {b}")
    s, b = http(port, "POST", "/v1/sagas/nope/signals/approved", {})
    expect(s == 404, f"an unknown saga is 404: {s} {b}")
    s, b = http(port, "POST", "/v1/sagas/a1/signals/bad%20name", {})
    expect(s == 400 and b.get("pointer") == "/signal", f"a bad signal name is 400: {s} {b}")
    s, b = http(port, "POST", "/v1/sagas/a1/signals/approved", {"nonsense": 1})
    expect(s == 400 and b.get("pointer") == "/nonsense", f"an unknown field is 400: {s} {b}")

    http(port, "POST", "/v1/sagas/approval", {"correlation_id": "a2"})
    r = signal("a2", "approved", "--data", '{"at": "2000-01-01T00:00:00Z"}', "--to",
               f"127.0.0.1:{listen}", "--json")
    expect(r.returncode == 0 and json.loads(r.stdout or "{}").get("result") == "stored",
           f"nexus signal --to stores it: {r.returncode} {r.stdout} {r.stderr}")
    s, b = http(port, "GET", "/v1/sagas/a2?wait=30")
    expect(b.get("status") == "completed", f"a2 completes: {b.get('status')}")
    r = signal("a2", "approved", "--to", f"127.0.0.1:{listen}")
    expect(r.returncode == 2 and "has ended" in r.stderr, f"--to an ended saga exits 2: {r.stderr}")

    # Signal lines through nexus submit.
    http(port, "POST", "/v1/sagas/approval", {"correlation_id": "a4"})
    sub = os.path.join(work, "signals.jsonl")
    with open(sub, "w") as f:
        f.write(json.dumps({"signal": "approved", "correlation_id": "a4",
                            "data": {"at": "2000-01-01T00:00:00Z"}, "signal_id": "s-4"}) + "\n")
        f.write(json.dumps({"signal": "approved", "correlation_id": "a4", "signal_id": "s-4"}) + "\n")
    r = subprocess.run([nexus, "submit", "--to", f"127.0.0.1:{listen}", sub], capture_output=True,
                       text=True, timeout=60)
    expect(r.returncode == 0 and "signal stored" in r.stdout and "duplicate" in r.stdout,
           f"nexus submit sends signal lines: {r.returncode} {r.stdout} {r.stderr}")
    s, b = http(port, "GET", "/v1/sagas/a4?wait=30")
    expect(b.get("status") == "completed", f"a4 completes: {b.get('status')}")
    with open(sub, "w") as f:
        f.write(json.dumps({"signal": "approved", "correlation_id": "nobody"}) + "\n")
    r = subprocess.run([nexus, "submit", "--to", f"127.0.0.1:{listen}", sub], capture_output=True,
                       text=True, timeout=60)
    expect(r.returncode == 2 and "no saga nobody" in r.stderr,
           f"a signal line to an unknown saga is refused: {r.returncode} {r.stderr}")

    # A saga left waiting when the server stops.
    http(port, "POST", "/v1/sagas/approval", {"correlation_id": "a3"})
    wait_for("a3 waits", lambda: "step_waiting:approved" in types("a3") or serve.poll() is not None,
             30)
    s, b = http(port, "GET", "/v1/sagas?status=running")
    row = [r for r in b.get("sagas", []) if r["cid"] == "a3"]
    expect(row and row[0].get("waiting_for") == "approved: signal approved"
           and row[0].get("parked") is True,
           f"the list says what a3 waits for, out of memory (no time limit: parked): {row}")
    table = subprocess.run([nexus, "sagas", "--data-dir", data, "--status", "running"],
                           capture_output=True, text=True, timeout=60).stdout
    expect("(waits: approved: signal approved; parked)" in table, f"nexus sagas says so too: {table}")
    serve.terminate()
    communicate(serve, "serve stops on SIGTERM", 60)

    # 3. Into the stopped log: the next run takes it and the saga ends.
    r = signal("a3", "approved", "--data", '{"at": "2000-01-01T00:00:00Z"}', "--data-dir", data)
    expect(r.returncode == 0 and "stored" in r.stdout, f"nexus signal --data-dir stores it: {r.stderr}")
    r = signal("nobody", "approved", "--data-dir", data)
    expect(r.returncode == 2 and "no saga nobody" in r.stderr, f"an unknown saga exits 2: {r.stderr}")
    r = signal("a3", "approved", "--data", "{bad", "--data-dir", data)
    expect(r.returncode == 2 and "--data: not JSON" in r.stderr, f"bad --data exits 2: {r.stderr}")
    r = signal("a3", "approved", "--data-dir", data, "--to", "127.0.0.1:1")
    expect(r.returncode != 0, "--data-dir and --to together are refused")
    run = subprocess.Popen([nexus, "run", wf], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(run)
    out, err = communicate(run, "the resuming run ends", 60)
    expect(run.returncode == 0 and status("a3") == "completed",
           f"the resumed saga consumed the stored signal and completed: {status('a3')} "
           f"{err.decode()[-300:]}")
    seqs = [e["seq"] for e in events("a3")]
    expect(seqs == list(range(1, len(seqs) + 1)), f"a3's sequence has no gap: {seqs}")
finally:
    stop_all(procs)

finish(work)
