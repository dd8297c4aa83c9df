#!/usr/bin/env python3
"""A saga's http step against a failing server opens the resource's breaker;
while it is open the server receives no calls; after open_ms trial calls
reach it; once it recovers the breaker closes and the waiting sagas complete.

The server counts every call it receives. Every attempt a saga makes either
reaches it or is refused by the breaker (a step_failed of kind circuit_open),
so the server's count must equal the attempts the log shows as not refused:
no refused call ever reached it. Nothing here depends on timing.

Usage: breaker_e2e_test.py NEXUS SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

nexus, src = sys.argv[1], sys.argv[2]
SAGAS = 6
# The server's first calls fail: the 6 first attempts, up to 3 retries that
# might slip through before the breaker has judged the 4th outcome, and at
# least one of the first two trials, so that it re-opens once.
FAILING_CALLS = 10

work = tempfile.mkdtemp(prefix="nexus-breaker-")
data = os.path.join(work, "data")
server = subprocess.Popen([sys.executable, os.path.join(src, "tests", "programs", "http_server.py")],
                          stdout=subprocess.PIPE)
port = int(server.stdout.readline().split()[0])
failures = []


def expect(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


try:
    workflow = os.path.join(work, "wf.json")
    with open(workflow, "w") as f:
        json.dump({
            "runtime": {"data_dir": data},
            "defaults": {"retry": {"max_attempts": 0, "initial_interval_ms": 200,
                                   "max_interval_ms": 400, "jitter": 0.2}},
            "breakers": {"payments": {"window": {"type": "count", "size": 4}, "minimum_calls": 4,
                                      "failure_rate_threshold": 50, "open_ms": 300,
                                      "open_backoff": 2.0, "max_open_ms": 1000,
                                      "half_open_calls": 2}},
            "sagas": {"pay": {"steps": [
                {"name": "charge", "resource": "payments", "timeout_ms": 5000,
                 "action": {"kind": "http",
                            "url": f"http://127.0.0.1:{port}/flaky/{FAILING_CALLS}"}}]}}}, f)
    run = subprocess.run([nexus, "run", workflow, "--generate", str(SAGAS), "--saga", "pay", "--json"],
                         capture_output=True, timeout=300)
    expect(run.returncode == 0, f"the run exits 0 ({run.returncode}): {run.stderr.decode()[-500:]}")
    summary = json.loads(run.stdout)
    expect(summary["completed"] == SAGAS, f"every saga completed ({summary['completed']} of {SAGAS})")

    def events(cid):
        out = subprocess.run([nexus, "events", cid, "--data-dir", data, "--json"],
                             capture_output=True, check=True).stdout
        return [json.loads(line) for line in out.splitlines()]

    sagas = [json.loads(line)["cid"] for line in subprocess.run(
        [nexus, "sagas", "--data-dir", data, "--json"], capture_output=True, check=True).stdout.splitlines()]
    attempts = refused = 0
    for cid in sagas:
        for e in events(cid):
            attempts += e["type"] == "step_started"
            refused += e["type"] == "step_failed" and e.get("error_kind") == "circuit_open"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/count/flaky") as r:
        received = json.load(r)["calls"]
    print(f"{attempts} attempts, {refused} refused by the breaker, {received} received by the server")
    expect(refused > 0, "the breaker refused calls while open")
    expect(received == attempts - refused, "the server received exactly the calls the breaker let through")

    transitions = [e["type"] for e in events("breaker:payments")]
    print("breaker:", " ".join(t.replace("breaker_", "") for t in transitions))
    expect(transitions[:3] == ["breaker_opened", "breaker_half_open", "breaker_opened"],
           "it opened, tried, and re-opened while the server still failed")
    expect(transitions[-2:] == ["breaker_half_open", "breaker_closed"], "it closed after trials passed")
    opened = [e for e in events("breaker:payments") if e["type"] == "breaker_opened"]
    expect(opened[0]["failure_rate"] == 100 and opened[0]["calls"] == 4, "the first opening says why")
    timeline = subprocess.run([nexus, "events", "breaker:payments", "--data-dir", data],
                              capture_output=True, check=True).stdout.decode().splitlines()
    expect(timeline[0].startswith("breaker payments, from "),
           f"its timeline is headed as a breaker's, not a saga's: {timeline[0]!r}")
    waits = [e for e in opened if "retry_at" in e]
    expect(len(waits) == len(opened), "each opening says when it will try again")
    state = json.loads(subprocess.run([nexus, "breakers", "--data-dir", data, "--json"],
                                      capture_output=True, check=True).stdout)
    expect(state["resource"] == "payments" and state["state"] == "closed", "nexus breakers shows it closed")

    # A run too short for the row's once-a-second refresh: its breakers are listed all the
    # same, with the figures they ended with.
    short = os.path.join(work, "short.json")
    short_data = os.path.join(work, "short-data")
    with open(short, "w") as f:
        json.dump({"runtime": {"data_dir": short_data, "durability": "async"},
                   "sagas": {"s": {"steps": [
                       {"name": "a", "resource": "stock", "action": {"kind": "simulate"},
                        "compensate": {"kind": "simulate"}},
                       {"name": "b", "resource": "payments", "action": {"kind": "simulate"}}]}}}, f)
    subprocess.run([nexus, "run", short, "--generate", "3", "--saga", "s", "--no-progress"],
                   capture_output=True, check=True, timeout=60)
    rows = [json.loads(l) for l in subprocess.run([nexus, "breakers", "--data-dir", short_data,
                                                   "--json"], capture_output=True,
                                                  check=True).stdout.splitlines()]
    expect(sorted((r["resource"], r["state"], r["calls"]) for r in rows)
           == [("payments", "closed", 3), ("stock", "closed", 3)],
           f"after a short run nexus breakers lists both breakers with their 3 calls: {rows}")
finally:
    server.terminate()
    server.wait()
if not failures:
    subprocess.run(["rm", "-rf", work])
else:
    print("data kept in", work)
print(f"{1 if not failures else 0} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
