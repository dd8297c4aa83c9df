#!/usr/bin/env python3
"""Crash test: SIGKILL a run at random moments, restart it each time.

Starts `nexus run` on a few thousand sagas with simulated latency, kills it
with SIGKILL at random moments at least 10 times (restarting after each),
then lets a last run finish. Afterwards every saga must be terminal, each
saga's sequence numbers must run from 1 with no gap or duplicate, and every
saga that a run had reported as finished (a "saga ... ended ..." line in its
log) before a kill must still be finished the same way.

Usage: crash_test.py NEXUS SOURCE_DIR [SEED]
"""
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

SAGAS = 4000
KILLS = 10
rng = random.Random(seed)
print(f"seed {seed} (rerun with it to repeat the kill moments)")

work = tempfile.mkdtemp(prefix="nexus-crash-")
data = os.path.join(work, "data")
workflow = os.path.join(work, "wf.json")
with open(workflow, "w") as f:
    json.dump({
        "runtime": {"max_in_flight": 100, "data_dir": data},
        "logging": {"level": "debug"},
        "defaults": {"retry": {"max_attempts": 4, "initial_interval_ms": 5, "max_interval_ms": 40}},
        "sagas": {"crash": {"steps": [
            {"name": "reserve", "action": {"kind": "simulate", "latency_ms": 20, "fail_rate": 0.1, "seed": 1},
             "compensate": {"kind": "simulate", "latency_ms": 3}},
            {"parallel": [
                {"name": "charge", "action": {"kind": "simulate", "latency_ms": 25, "fail_rate": 0.1,
                                             "fail_kind": "permanent", "seed": 2},
                 "compensate": {"kind": "simulate", "latency_ms": 3, "fail_rate": 0.2, "seed": 4}},
                {"name": "notify", "action": {"kind": "simulate", "latency_ms": 4, "seed": 5},
                 "compensate": {"kind": "simulate"}}]},
            {"name": "ship", "action": {"kind": "simulate", "latency_ms": 15, "fail_rate": 0.2, "seed": 3},
             "compensate": {"kind": "simulate", "latency_ms": 2}}]}}}, f)
inputs = os.path.join(work, "in.jsonl")
with open(inputs, "w") as f:
    for i in range(SAGAS):
        f.write(json.dumps({"saga": "crash", "correlation_id": f"crash-{i}", "input": {"i": i}}) + "\n")
logfile = os.path.join(data, "logs", "nexus.jsonl")


def reported_endings():
    """Sagas the runs so far said had ended, from their log lines."""
    ended = {}
    if not os.path.exists(logfile):
        return ended
    with open(logfile, errors="replace") as f:
        for line in f:
            try:
                msg = json.loads(line)["msg"]
            except (ValueError, KeyError):
                continue  # a line cut short by SIGKILL
            words = msg.split()
            if len(words) == 4 and words[0] == "saga" and words[2] == "ended":
                ended[words[1]] = words[3]
    return ended


def run():
    return subprocess.Popen([nexus, "run", workflow, "--input", inputs, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


kills = 0
attempts = 0
while kills < KILLS and attempts < 60:
    attempts += 1
    p = run()
    time.sleep(rng.uniform(0.05, 0.4))  # the moment of the kill, not a wait for anything
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        kills += 1
    p.communicate()
    if p.returncode not in (0, -signal.SIGKILL):
        sys.exit(f"FAIL: run {attempts} exited {p.returncode}")

before_final = reported_endings()
p = run()
out, err = p.communicate(timeout=600)
failures = []
if p.returncode != 0:
    failures.append(f"the final run exited {p.returncode}: {err.decode(errors='replace')}")
sagas = log_check.check(data)  # raises on a gap, duplicate, or row that disagrees
if len(sagas) != SAGAS:
    failures.append(f"{len(sagas)} sagas in the log, expected {SAGAS}")
unfinished = [c for c, s in sagas.items() if s["status"] not in log_check.TERMINAL]
if unfinished:
    failures.append(f"{len(unfinished)} sagas not terminal, e.g. {unfinished[:3]}")
changed = [(c, st, sagas.get(c, {}).get("status")) for c, st in before_final.items()
           if sagas.get(c, {}).get("status") != st]
if changed:
    failures.append(f"{len(changed)} sagas reported finished changed, e.g. {changed[:3]}")
statuses = {}
for s in sagas.values():
    statuses[s["status"]] = statuses.get(s["status"], 0) + 1
print(f"{kills} kills in {attempts} runs; {len(before_final)} sagas reported finished before the "
      f"last run; final outcome {statuses}")
for f in failures:
    print("FAIL:", f)
if not failures:
    subprocess.run(["rm", "-rf", work])
else:
    print("data kept in", work)
print(f"{4 - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
