#!/usr/bin/env python3
"""examples/pipeline.json on 300 items with fixed correlation IDs. Simulated
steps are deterministic from their seed, the ID, the step and the attempt,
so the outcome counts are fixed: a change in them is a change in behaviour.
Every item compensated on its own undoes what it had done, in reverse order.

Usage: pipeline_test.py NEXUS SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
import log_check  # noqa: E402

STEPS = ["ingest", "plan", "build", "publish"]
work = tempfile.mkdtemp(prefix="nexus-pipeline-")
data = os.path.join(work, "data")
inputs = os.path.join(work, "docs.jsonl")
with open(inputs, "w") as f:
    for i in range(1, 301):
        f.write(json.dumps({"saga": "content", "correlation_id": f"doc-{i}"}) + "\n")
run = subprocess.run([nexus, "run", os.path.join(src, "examples", "pipeline.json"), "--input", inputs,
                      "--data-dir", data, "--json", "--no-progress"], capture_output=True)
failures = []


def expect(cond, what, quiet=False):
    if not (cond and quiet):
        print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


expect(run.returncode == 0, f"the run exits 0: {run.stderr.decode()[-300:]}")
s = json.loads(run.stdout)
expect((s["completed"], s["compensated"], s["failed"], s["events"]) == (279, 21, 0, 3283),
       f"fixed outcome: 279 completed, 21 compensated, 3283 events (got {s['completed']}, "
       f"{s['compensated']}, {s['events']})")
for cid, saga in log_check.check(data).items():
    events = saga["events"]
    done = [e["step"] for e in events if e["type"] == "step_succeeded"]
    undone = [e["step"] for e in events if e["type"] == "compensation_succeeded"]
    if saga["status"] == "completed":
        expect(done == STEPS, f"{cid} did every stage in order", quiet=True)
    else:
        expect(undone == list(reversed(done)), f"{cid} undid {done} in reverse: {undone}", quiet=True)
expect(not failures, "each item completed every stage, or undid what it had done in reverse")
if not failures:
    subprocess.run(["rm", "-rf", work])
print(f"{1 if not failures else 0} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
