#!/usr/bin/env python3
"""Waiting sagas through SIGKILLs: sagas that sleep and wait for signals,
parked out of memory (runtime.passivate_after_ms 50), with signals from
input lines, from `nexus signal --data-dir` between runs and from `nexus
signal --to` a `nexus serve` that is killed while they arrive.

Afterwards: every saga completed; each one's sequence numbers run from 1
without gap (tests/tools/log_check.py); every signal acknowledged (exit 0)
is in its saga's events, each signal_id once (none stored twice); every
wait consumed exactly one signal and every sleep woke exactly once.

Kill moments come from the ledger the exec steps append to (a condition,
with a deadline), never from sleeps.

Usage: waiting_crash_test.py NEXUS SOURCE_DIR [SEED]
"""
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

nexus, src = sys.argv[1], sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else int(time.time())
sys.path.insert(0, os.path.join(src, "tests", "tools"))
import log_check  # noqa: E402
from checks import expect, finish  # noqa: E402

NAPPERS, WAITERS = 40, 60
RUNS, SERVES = 4, 2
rng = random.Random(seed)
print(f"seed {seed} (rerun with it to repeat the kill moments)")

work = tempfile.mkdtemp(prefix="nexus-waiting-crash-")
data = os.path.join(work, "data")
ledger = os.path.join(work, "ledger")
step = os.path.join(src, "tests", "programs", "step.sh")
ledgered = {"kind": "exec", "argv": [step, "ledger", ledger]}

workflow = os.path.join(work, "wf.json")
with open(workflow, "w") as f:
    json.dump({
        "runtime": {"max_in_flight": 30, "data_dir": data, "passivate_after_ms": 50},
        "logging": {"level": "info"},
        "sagas": {
            "napper": {"steps": [
                {"name": "a", "action": ledgered},
                {"name": "nap", "action": {"kind": "sleep", "ms": 300}},
                {"name": "b", "action": ledgered}]},
            "waiter": {"steps": [
                {"name": "a", "action": ledgered},
                {"name": "paid", "action": {"kind": "wait", "signal": "paid", "timeout_ms": 3600000}},
                {"name": "nap", "action": {"kind": "sleep", "ms": 200}},
                {"name": "shipped", "action": {"kind": "wait", "signal": "shipped"}},
                {"name": "b", "action": ledgered}]}}}, f)

nappers = [f"nap-{i}" for i in range(NAPPERS)]
waiters = [f"wait-{i}" for i in range(WAITERS)]
# A waiter's two signals, each with its own signal_id; even waiters get
# "paid" from input lines, the rest by `nexus signal`.
wanted = {(cid, name): f"{cid}-{name}" for cid in waiters for name in ("paid", "shipped")}
by_input = {k for k in wanted if k[1] == "paid" and int(k[0].split("-")[1]) % 2 == 0}
inputs = os.path.join(work, "in.jsonl")
with open(inputs, "w") as f:
    for cid in nappers:
        f.write(json.dumps({"saga": "napper", "correlation_id": cid}) + "\n")
    for cid in waiters:
        f.write(json.dumps({"saga": "waiter", "correlation_id": cid}) + "\n")
    for cid, name in sorted(by_input):
        f.write(json.dumps({"signal": name, "correlation_id": cid, "data": {"via": "input"},
                            "signal_id": wanted[(cid, name)]}) + "\n")

acknowledged = set()  # signal_ids whose sender was told stored or duplicate
failures = []


def ledger_lines():
    try:
        with open(ledger) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def kill_when(p, cond, seconds=60):
    """SIGKILLs p once `cond()` holds (polled, with a deadline); also when the
    deadline passes, the work having stalled on signals still to come."""
    deadline = time.monotonic() + seconds
    while p.poll() is None and time.monotonic() < deadline and not cond():
        time.sleep(0.002)  # polling a condition, with a deadline
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.communicate()


def send_signal(cid, name, where):
    r = subprocess.run([nexus, "signal", cid, name, "--id", wanted[(cid, name)], "--data",
                        json.dumps({"via": where[0]}), where[0], where[1], "--json"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode == 0:
        result = json.loads(r.stdout)["result"]
        if result not in ("stored", "duplicate"):
            failures.append(f"signal {cid} {name}: result {result}")
        acknowledged.add(wanted[(cid, name)])
    return r.returncode


def by_command():
    return sorted(k for k in wanted if k not in by_input)


kills = 0
for run in range(RUNS):
    # nexus run on the input; killed once the ledger has grown a little.
    p = subprocess.Popen([nexus, "run", workflow, "--input", inputs, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    target = ledger_lines() + rng.randint(5, 60)
    kill_when(p, lambda: ledger_lines() >= target, seconds=8)
    kills += p.returncode == -signal.SIGKILL
    if p.returncode not in (0, -signal.SIGKILL):
        failures.append(f"run {run} exited {p.returncode}")
    # Signals into the log while no process holds it, some sent again.
    chunk = rng.sample(by_command(), 12)
    for cid, name in chunk:
        code = send_signal(cid, name, ("--data-dir", data))
        if code not in (0, 2):  # 2: not started yet (its start line not read)
            failures.append(f"nexus signal --data-dir {cid} {name} exited {code}")

for serve_round in range(SERVES):
    http_port, listen_port = rng.randrange(20000, 30000), rng.randrange(30000, 32000)
    serve = subprocess.Popen([nexus, "serve", workflow, "--http", f"127.0.0.1:{http_port}",
                              "--listen", f"127.0.0.1:{listen_port}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = ""
    for _ in range(10):  # ready once it says where it listens
        line = serve.stderr.readline().decode()
        if "http listening" in line or not line:
            break
    if "http listening" not in line:
        failures.append(f"serve round {serve_round} did not start: {line!r}")
        serve.kill()
        serve.communicate()
        continue
    chunk = rng.sample(by_command(), 20)
    stop_after = rng.randint(3, 15)
    sent = 0
    for cid, name in chunk:
        code = send_signal(cid, name, ("--to", f"127.0.0.1:{listen_port}"))
        if code not in (0, 2):
            failures.append(f"nexus signal --to {cid} {name} exited {code}")
        sent += 1
        if sent == stop_after:  # killed between one acknowledgement and the next signal
            break
    serve.send_signal(signal.SIGKILL)
    serve.communicate()
    kills += 1

# Every saga started (its step a in the ledger) before the last signals go
# in: one more run, killed once they all are (runs killed early may not have
# read every start line yet, and a saga started after its signal was refused
# as unknown would wait for ever).
def started_all():
    try:
        with open(ledger) as f:
            keys = {line.split()[0] for line in f if line.strip()}
    except FileNotFoundError:
        return False
    return all(f"{cid}/a" in keys for cid in nappers + waiters)


if not started_all():
    p = subprocess.Popen([nexus, "run", workflow, "--input", inputs, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kill_when(p, started_all, seconds=120)
    kills += p.returncode == -signal.SIGKILL
if not started_all():
    failures.append("not every saga started within 120 s")

# What is still missing goes in while no process runs, then one run ends it all.
for cid, name in by_command():
    if wanted[(cid, name)] not in acknowledged:
        code = send_signal(cid, name, ("--data-dir", data))
        if code != 0:
            failures.append(f"the last nexus signal {cid} {name} exited {code}")
p = subprocess.Popen([nexus, "run", workflow, "--input", inputs, "--json"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
out, err = p.communicate(timeout=120)  # inside ctest's limit, to say why
if p.returncode != 0:
    failures.append(f"the final run exited {p.returncode}: {err.decode(errors='replace')[-2000:]}")

sagas = log_check.check(data)  # raises on a gap, a duplicate, or a row that disagrees
received = collections.Counter()
for cid, s in sagas.items():
    if s["status"] != "completed":
        failures.append(f"{cid} is {s['status']}, not completed")
    succeeded = collections.Counter(e["step"] for e in s["events"] if e["type"] == "step_succeeded")
    waiting = collections.Counter(e["step"] for e in s["events"] if e["type"] == "step_waiting")
    if succeeded["nap"] != 1 or waiting["nap"] != 1:
        failures.append(f"{cid}: nap waited {waiting['nap']} times and woke {succeeded['nap']}")
    if s["row"].get("parked"):
        failures.append(f"{cid}: its row is still parked")
    if cid.startswith("wait-"):
        for name in ("paid", "shipped"):
            if succeeded[name] != 1:
                failures.append(f"{cid}: wait {name} succeeded {succeeded[name]} times")
            consumed = [e for e in s["events"]
                        if e["type"] == "step_succeeded" and e.get("step") == name]
            if consumed and consumed[0].get("signal") != name:
                failures.append(f"{cid}: {name} ended by {consumed[0].get('signal')!r}")
        for e in s["events"]:
            if e["type"] == "signal_received":
                received[e.get("signal_id")] += 1
twice = [i for i, n in received.items() if n > 1]
if twice:
    failures.append(f"signal_ids stored more than once: {twice[:5]}")
lost = sorted(acknowledged - set(received))
if lost:
    failures.append(f"acknowledged signals missing from the log: {lost[:5]}")
missing = sorted(set(wanted.values()) - set(received))
if missing:
    failures.append(f"signals never stored: {missing[:5]}")
if len(sagas) != NAPPERS + WAITERS:
    failures.append(f"{len(sagas)} sagas in the log, expected {NAPPERS + WAITERS}")
with open(os.path.join(data, "logs", "nexus.jsonl")) as f:
    parked_lines = sum(1 for line in f if "wait in the log (parked)" in line)

print(f"{kills} kills; {len(acknowledged)} signals acknowledged to nexus signal, "
      f"{sum(received.values())} stored; {parked_lines} starts found parked sagas")
if parked_lines == 0:
    failures.append("no restart found a parked saga: nothing was passivated")
for f in failures[:20]:
    expect(False, f)
expect(not failures, f"{len(failures)} problems in the log (data in {work})")
finish(work)
