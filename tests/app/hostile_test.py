#!/usr/bin/env python3
"""Hostile values: each gets a clear error or a bounded, recorded failure,
never a crash, a hang or a damaged log.

- Input lines whose correlation IDs hold a newline, a NUL, ANSI escapes or
  1 MiB, and a line of invalid UTF-8: refused with their line number (the
  run stops with exit 2 before them, or skips them with --on-bad-input skip),
  nothing of theirs stored, no raw control byte on the console.
- Step outputs of 1,000,000 bytes and with escaped newlines, NUL and ANSI
  escapes: stored as JSON, read back intact by `nexus events --json`, and
  the timeline shows no raw control byte.
- A step that dies by a signal: a recorded failure naming the signal
  (transient: the OOM killer sends one), and once retries are spent the
  saga compensates.
- Workflow files with NaN, 1e999, a 30-digit integer, duplicate keys: exit 2
  naming the line; 100,000 steps: validated within seconds.

Usage: hostile_test.py NEXUS SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import expect, finish  # noqa: E402
import log_check  # noqa: E402

work = tempfile.mkdtemp(prefix="nexus-hostile-")
step = os.path.join(src, "tests", "programs", "step.sh")


def nexus_run(*args, timeout=120):
    return subprocess.run([nexus, *args], capture_output=True, timeout=timeout)


def clean(output, what):
    raw = [b for b in output if b < 0x20 and b not in (0x0a, 0x09)]
    expect(not raw, f"{what}: no raw control byte in the output ({sorted(set(raw))[:5]})")


def write_workflow(name, sagas, data):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        json.dump({"runtime": {"data_dir": data, "max_in_flight": 16},
                   "defaults": {"retry": {"max_attempts": 1}}, "sagas": sagas}, f)
    return path


# -- hostile correlation IDs ----------------------------------------------------
data = os.path.join(work, "ids")
wf = write_workflow("ids.json", {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]}},
                    data)
lines = [
    json.dumps({"saga": "s", "correlation_id": "good-1"}).encode(),
    json.dumps({"saga": "s", "correlation_id": "new\nline"}).encode(),
    json.dumps({"saga": "s", "correlation_id": "nul\u0000byte"}).encode(),
    json.dumps({"saga": "s", "correlation_id": "\u001b[31mred\u001b[0m"}).encode(),
    json.dumps({"saga": "s", "correlation_id": "x" * (1 << 20)}).encode(),
    b'{"saga": "s", "correlation_id": "bad-\xff\xfe-utf8"}',
    json.dumps({"saga": "s", "correlation_id": "good-2"}).encode(),
]
inputs = os.path.join(work, "ids.jsonl")
with open(inputs, "wb") as f:
    f.write(b"\n".join(lines) + b"\n")

stop = nexus_run("run", wf, "--input", inputs, "--no-progress", "--json")
expect(stop.returncode == 2, f"a hostile ID stops the run with exit 2 (got {stop.returncode})")
expect(b"ids.jsonl:2:" in stop.stderr, f"naming its line: {stop.stderr[-300:]!r}")
clean(stop.stderr, "the refusal")
sagas = log_check.check(data)
expect(set(sagas) == {"good-1"}, f"only the line before it started: {sorted(sagas)[:5]}")

skip = nexus_run("run", wf, "--input", inputs, "--no-progress", "--json", "--on-bad-input", "skip")
expect(skip.returncode == 0, f"with --on-bad-input skip the run finishes ({skip.stderr[-300:]!r})")
summary = json.loads(skip.stdout) if skip.returncode == 0 else {}
expect(summary.get("skipped") == 5, f"the five bad lines skipped: {summary}")
for n in range(2, 7):
    expect(f"ids.jsonl:{n}:".encode() in skip.stderr, f"line {n} named in the warnings")
clean(skip.stderr, "the warnings")
expect(len(skip.stderr) < 20000, f"the 1 MiB ID is not echoed whole ({len(skip.stderr)} bytes)")
sagas = log_check.check(data)
expect(set(sagas) == {"good-1", "good-2"} and all(s["status"] == "completed" for s in sagas.values()),
       f"the good sagas ran, nothing of the bad ones stored: {sorted(sagas)[:5]}")

# -- hostile step outputs and a step killed by a signal -------------------------
data = os.path.join(work, "outputs")
wf = write_workflow("outputs.json", {
    "big": {"steps": [{"name": "a", "action": {"kind": "exec", "argv": ["sh", step, "bigjson", "1000000"],
                                                  "max_output_bytes": 2000000}}]},
    "weird": {"steps": [{"name": "a", "action": {"kind": "exec", "argv": ["sh", step, "weird"]}}]},
    "killed": {"steps": [
        {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
        {"name": "b", "action": {"kind": "exec", "argv": ["sh", step, "signal", "9"]}}]},
}, data)
inputs = os.path.join(work, "outputs.jsonl")
with open(inputs, "w") as f:
    for saga in ("big", "weird", "killed"):
        f.write(json.dumps({"saga": saga, "correlation_id": f"{saga}-1"}) + "\n")
run = nexus_run("run", wf, "--input", inputs, "--no-progress", "--json")
expect(run.returncode == 0, f"the run finishes ({run.stderr[-300:]!r})")
sagas = log_check.check(data)
expect(sagas.get("big-1", {}).get("status") == "completed", "a 1,000,000-byte output is taken")
expect(sagas.get("weird-1", {}).get("status") == "completed", "an output with escapes is taken")
expect(sagas.get("killed-1", {}).get("status") == "compensated", "a step killed by a signal compensates")

events = nexus_run("events", "big-1", "--data-dir", data, "--json")
outputs = [json.loads(l).get("output") for l in events.stdout.splitlines()]
expect(any(o == {"big": "x" * 1000000} for o in outputs), "the big output reads back intact")

events = nexus_run("events", "weird-1", "--data-dir", data, "--json")
outputs = [json.loads(l).get("output") for l in events.stdout.splitlines()]
expect(any(o == {"text": "line1\nline2 nul\u0000 esc\u001b[31mred\u001b[0m bell\u0007 end"} for o in outputs),
       "the escaped output reads back as it was")
timeline = nexus_run("events", "weird-1", "--data-dir", data)
expect(timeline.returncode == 0, "the timeline prints")
clean(timeline.stdout + timeline.stderr, "the timeline")

events = nexus_run("events", "killed-1", "--data-dir", data, "--json")
failed = [json.loads(l) for l in events.stdout.splitlines() if json.loads(l)["type"] == "step_failed"]
expect(len(failed) == 1 and "killed by signal 9" in failed[0].get("message", ""),
       f"the failure names the signal: {failed}")

# -- hostile workflow files -------------------------------------------------------
for name, text, what in (
        ("nan.json", '{"runtime": {"max_in_flight": NaN}, "sagas": {}}', "NaN"),
        ("exp.json", '{"runtime": {"max_in_flight": 1e999}, "sagas": {}}', "1e999"),
        ("digits.json", '{"runtime": {"max_in_flight": 123456789012345678901234567890}, "sagas": {}}',
         "a 30-digit integer"),
        ("dup.json", '{"sagas": {},\n "sagas": {}}', "a duplicate key")):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    v = nexus_run("validate", path)
    expect(v.returncode == 2 and f"{name}:".encode() in v.stderr + v.stdout,
           f"{what}: exit 2 naming the file and line ({(v.stderr + v.stdout)[:200]!r})")

path = os.path.join(work, "many.json")
with open(path, "w") as f:
    json.dump({"runtime": {"data_dir": os.path.join(work, "many")},
               "sagas": {"many": {"steps": [{"name": f"s{i}", "action": {"kind": "simulate"}}
                                            for i in range(100000)]}}}, f)
v = nexus_run("validate", path, timeout=60)
expect(v.returncode == 0, f"100,000 steps validate ({(v.stdout + v.stderr)[:200]!r})")

finish(work)
