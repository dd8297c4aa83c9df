#!/usr/bin/env python3
"""Recovery with real programs: exec steps that append their idempotency key
to a ledger file, a run killed with SIGKILL at random moments and restarted.

Afterwards every saga is terminal, and per step (and per compensation) that
the log shows started, the ledger holds its key at least once (the effect
happened: at least once) and the log records its outcome exactly once.

Usage: recovery_test.py NEXUS SOURCE_DIR [SEED]
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

SAGAS = 200
KILLS = 6
rng = random.Random(seed)
print(f"seed {seed} (rerun with it to repeat the kill moments)")

work = tempfile.mkdtemp(prefix="nexus-recovery-")
data = os.path.join(work, "data")
ledger = os.path.join(work, "ledger")
step = os.path.join(src, "tests", "programs", "step.sh")


def run_program(mode):
    return {"kind": "exec", "argv": [step, mode, ledger]}


workflow = os.path.join(work, "wf.json")
with open(workflow, "w") as f:
    json.dump({
        "runtime": {"max_in_flight": 40, "data_dir": data},
        "logging": {"level": "info"},
        "sagas": {"ledgered": {"steps": [
            {"name": "reserve", "action": run_program("ledger"), "compensate": run_program("ledger")},
            {"parallel": [
                {"name": "charge", "action": run_program("ledger"), "compensate": run_program("ledger")},
                {"name": "notify", "action": run_program("ledger"), "compensate": run_program("ledger")}]},
            # Sagas whose ID ends in 7 are declined here, and compensate.
            {"name": "ship", "action": run_program("ledger-or-fail")}]}}}, f)
inputs = os.path.join(work, "in.jsonl")
with open(inputs, "w") as f:
    for i in range(SAGAS):
        f.write(json.dumps({"saga": "ledgered", "correlation_id": f"led-{i}"}) + "\n")


def run():
    return subprocess.Popen([nexus, "run", workflow, "--input", inputs, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def ledger_lines():
    try:
        with open(ledger) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def kill_after(p, more):
    """SIGKILLs p once the ledger has grown by `more` lines: a moment in the
    middle of the work, whatever the machine's speed. False if p ended first."""
    target = ledger_lines() + more
    deadline = time.monotonic() + 60
    while p.poll() is None and time.monotonic() < deadline:
        if ledger_lines() >= target:
            p.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.002)  # polling a condition, with a deadline
    return False


kills = 0
attempts = 0
while kills < KILLS and attempts < 40:
    attempts += 1
    p = run()
    kills += kill_after(p, rng.randint(1, 120))
    p.communicate()
    if p.returncode not in (0, -signal.SIGKILL):
        sys.exit(f"FAIL: run {attempts} exited {p.returncode}")

p = run()
out, err = p.communicate(timeout=600)
failures = []
if p.returncode != 0:
    failures.append(f"the final run exited {p.returncode}: {err.decode(errors='replace')}")

sagas = log_check.check(data)  # raises on a gap, duplicate, or row that disagrees
effects = collections.Counter()
with open(ledger) as f:
    for line in f:
        effects[line.split()[0]] += 1

outcome_types = {"step_succeeded", "compensation_succeeded"}
statuses = collections.Counter()
repeated = 0
for cid, s in sagas.items():
    statuses[s["status"]] += 1
    if s["status"] not in log_check.TERMINAL:
        failures.append(f"{cid} is {s['status']}, not terminal")
    started, outcomes = set(), collections.Counter()
    for e in s["events"]:
        key = e.get("idempotency_key")
        if e["type"] in ("step_started", "compensation_started"):
            started.add(key)
        elif e["type"] in outcome_types or (e["type"] == "step_failed"):
            comp = "/compensate" if e["type"].startswith("compensation") else ""
            outcomes[f"{cid}/{e['step']}{comp}"] += 1
    for key in started:
        if effects[key] < 1:
            failures.append(f"{key} started but its program never ran")
        if outcomes[key] != 1:
            failures.append(f"{key}: {outcomes[key]} outcomes recorded, expected exactly 1")
        repeated += effects[key] > 1
    expected = "compensated" if cid.endswith("7") else "completed"
    if s["status"] != expected:
        failures.append(f"{cid} ended {s['status']}, expected {expected}")
if len(sagas) != SAGAS:
    failures.append(f"{len(sagas)} sagas in the log, expected {SAGAS}")

print(f"{kills} kills in {attempts} runs; final outcome {dict(statuses)}; "
      f"{sum(effects.values())} ledger lines, {repeated} steps ran more than once (at least once)")
for f in failures[:20]:
    print("FAIL:", f)
if not failures:
    subprocess.run(["rm", "-rf", work])
else:
    print("data kept in", work)
print(f"{1 if not failures else 0} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
