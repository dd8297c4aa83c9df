#!/usr/bin/env python3
"""Crash points: NEXUS_CRASH_AT kills the run at a chosen point of a step's
life, between its effect, the write of its outcome to the WAL file, that
write's sync and the acknowledgement (`effect`, `written`, `append`, `ack`;
see runtime/crash_point.hpp), a few passages in.
After a restart every saga must end, each saga's events must run from 1
without gap or duplicate, no step may have its outcome recorded twice, and no
step whose outcome was already in the log when the process died may run
again (its effect applied twice). Steps may run again only when their outcome
had not been recorded: at least once, never lost.

The steps are `exec` programs that append their idempotency key and attempt
to a ledger file: the ledger is the effects, the log the records.

Usage: crash_points_test.py NEXUS SOURCE_DIR
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import expect, finish  # noqa: E402
import log_check  # noqa: E402

SAGAS = 30
STEPS = ("reserve", "charge", "ship")
work = tempfile.mkdtemp(prefix="nexus-crash-points-")
step_program = os.path.join(src, "tests", "programs", "step.sh")


def workflow(data, ledger):
    path = os.path.join(work, "wf.json")
    with open(path, "w") as f:
        json.dump({
            "runtime": {"max_in_flight": 8, "data_dir": data},
            "sagas": {"order": {"steps": [
                {"name": s, "action": {"kind": "exec", "argv": ["sh", step_program, "ledger", ledger]}}
                for s in STEPS]}},
        }, f)
    return path


def run(wf, crash_at=None):
    env = dict(os.environ)
    env.pop("NEXUS_CRASH_AT", None)
    if crash_at:
        env["NEXUS_CRASH_AT"] = crash_at
    inputs = os.path.join(work, "in.jsonl")
    with open(inputs, "w") as f:
        for i in range(SAGAS):
            f.write(json.dumps({"saga": "order", "correlation_id": f"o-{i}"}) + "\n")
    return subprocess.run([nexus, "run", wf, "--input", inputs, "--no-progress", "--json"],
                          env=env, capture_output=True, text=True, timeout=120)


def ledger_lines(ledger):
    if not os.path.exists(ledger):
        return []
    with open(ledger) as f:
        return [line.split()[0] for line in f if line.strip()]


def recorded(sagas):
    """(cid, step) of every step_succeeded in the log."""
    return {(cid, e["step"]) for cid, s in sagas.items() for e in s["events"]
            if e["type"] == "step_succeeded"}


for point in ("effect", "written", "append", "ack"):
    for nth in (3, 25):
        name = f"{point}:{nth}"
        data = os.path.join(work, f"data-{point}-{nth}")
        ledger = os.path.join(work, f"ledger-{point}-{nth}")
        wf = workflow(data, ledger)
        first = run(wf, name)
        expect(first.returncode == -signal.SIGKILL,
               f"{name}: the run dies by SIGKILL (status {first.returncode}: {first.stderr[-200:]})")
        try:
            before = log_check.check(data)
        except AssertionError as e:
            expect(False, f"{name}: the log as the crash left it is sound: {e}")
            continue
        done_before = recorded(before)
        effects_before = len(ledger_lines(ledger))

        second = run(wf)
        expect(second.returncode == 0, f"{name}: the restart finishes ({second.stderr[-300:]})")
        try:
            after = log_check.check(data)
        except AssertionError as e:
            expect(False, f"{name}: the log after the restart is sound: {e}")
            continue
        expect(len(after) == SAGAS and all(s["status"] == "completed" for s in after.values()),
               f"{name}: all {SAGAS} sagas completed: "
               f"{Counter(s['status'] for s in after.values())}")
        outcomes = Counter((cid, e["step"]) for cid, s in after.items() for e in s["events"]
                           if e["type"] == "step_succeeded")
        expect(all(n == 1 for n in outcomes.values()) and len(outcomes) == SAGAS * len(STEPS),
               f"{name}: every step's outcome recorded exactly once")
        # The ledger's keys are `<cid>/<step>`: what ran after the restart.
        rerun = [key for key in ledger_lines(ledger)[effects_before:]
                 if tuple(key.split("/", 1)) in done_before]
        expect(not rerun, f"{name}: no step recorded before the crash ran again: {rerun[:5]}")
        effects = Counter(ledger_lines(ledger))
        expect(all(effects[f"{cid}/{step}"] >= 1 for cid in after for step in STEPS),
               f"{name}: every step's effect applied at least once")
        expect(sum(effects.values()) - SAGAS * len(STEPS) <= 8,
               f"{name}: at most the calls in flight at the crash ran twice "
               f"({sum(effects.values()) - SAGAS * len(STEPS)} did)")

finish(work)
