#!/usr/bin/env python3
"""The JSON-lines log of real runs.

A workflow whose exec step prints quotes, ANSI escapes, invalid UTF-8 and a
forged log line on stderr (and fails with them for some sagas), plus
simulated failures that compensate: every line of the log must be one JSON
object in strict UTF-8, saga lines must carry their fields, no line may be
forged, the console may carry no raw escape character, and the outcomes
counted from the log lines must equal those of the `sagas` family, also
after a second run over the same data directory.

Usage: log_test.py NEXUS SOURCE_DIR
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import expect, finish, stop_all, wait_for  # noqa: E402



work = tempfile.mkdtemp(prefix="nexus-log-")
data = os.path.join(work, "data")
step = os.path.join(src, "tests", "programs", "step.sh")
workflow = os.path.join(work, "wf.json")
with open(workflow, "w") as f:
    json.dump({
        "runtime": {"data_dir": data, "durability": "async"},
        "logging": {"level": "debug"},
        "sagas": {"hostile": {"steps": [
            {"name": "shout", "action": {"kind": "exec", "argv": ["sh", step, "hostile"]},
             "compensate": {"kind": "exec", "argv": ["sh", step, "hostile"]}},
            {"name": "flaky", "retry": {"max_attempts": 2, "initial_interval_ms": 1},
             "action": {"kind": "simulate", "fail_rate": 0.3, "seed": 11},
             "compensate": {"kind": "simulate"}},
            {"name": "done", "action": {"kind": "simulate"}}]}}}, f)
inputs = os.path.join(work, "in.jsonl")


def run(first, last):
    with open(inputs, "w") as f:
        for i in range(first, last):
            f.write(json.dumps({"saga": "hostile", "correlation_id": f"h-{i}",
                                "input": {"note": "esc \u001b[2J and \"quotes\""}}) + "\n")
    # The console at debug shows the programs' stderr too.
    return subprocess.run([nexus, "run", workflow, "--input", inputs, "--json", "--no-progress",
                           "--log-level", "debug"], capture_output=True)


first = run(0, 60)
expect(first.returncode == 0, f"the first run exits 0: {first.stderr[-300:]!r}")
second = run(60, 100)
expect(second.returncode == 0, f"a second run on the same log exits 0: {second.stderr[-300:]!r}")
for r in (first, second):
    expect(b"\\x1b[31mred" in r.stderr and b"\x1b" not in r.stderr,
           "the console shows the programs' escape codes as text, never raw")

raw = open(os.path.join(data, "logs", "nexus.jsonl"), "rb").read()
lines = raw.split(b"\n")
expect(lines[-1] == b"", "the log ends with a newline")
parsed, bad = [], []
for n, line in enumerate(lines[:-1], 1):
    try:
        parsed.append(json.loads(line.decode("utf-8", errors="strict")))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        bad.append(f"line {n}: {e}: {line[:120]!r}")
expect(not bad, f"all {len(lines) - 1} lines are JSON in strict UTF-8 {bad[:3]}")
expect(all(isinstance(p, dict) for p in parsed), "every line is one object")
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
expect(all(ts.match(p.get("ts", "")) and p.get("level") and p.get("logger") and "msg" in p
           and p.get("node") for p in parsed),
       "every line has ts (RFC 3339, microseconds, UTC), level, logger, msg and node")
expect(not any(p.get("msg") == "forged" for p in parsed), "no program output forged a line")
saga_lines = [p for p in parsed if p["msg"].startswith(("saga ", "step ", "compensat", "stderr"))]
expect(saga_lines and all(p.get("correlation_id", "").startswith("h-") and p.get("saga") == "hostile"
                          for p in saga_lines),
       f"all {len(saga_lines)} saga lines carry correlation_id and saga")
step_lines = [p for p in parsed if p["msg"].startswith(("step ", "stderr"))]
expect(step_lines and all(p.get("step") and isinstance(p.get("attempt"), int) for p in step_lines),
       f"all {len(step_lines)} step lines carry step and attempt")
stderr_lines = [p for p in parsed if p["msg"].startswith("stderr of ")]
expect(len(stderr_lines) >= 100 and all("\x1b[31mred" in p["msg"] and "\ufffd" in p["msg"]
                                        and '{"level":"error","msg":"forged"}' in p["msg"]
                                        for p in stderr_lines),
       f"the programs' stderr is kept whole inside {len(stderr_lines)} lines, escape codes as "
       "text and invalid UTF-8 replaced")
failed = [p for p in parsed if p["msg"].startswith("step failed: permanent: sh exited 3")]
expect(failed and all("\u001b]0;title" in p["msg"] for p in failed),
       f"{len(failed)} failure messages carry the program's last stderr line, escaped")

ended = {}
for p in parsed:
    if p["msg"].startswith("saga ended"):
        ended[p["correlation_id"]] = p["status"]  # the last end of each saga counts
from_log = collections.Counter(ended.values())
rows = subprocess.run([nexus, "sagas", "--data-dir", data, "--json"], capture_output=True)
expect(rows.returncode == 0, "nexus sagas --json exits 0")
from_rows = collections.Counter(json.loads(l)["status"] for l in rows.stdout.decode().splitlines())
expect(from_log == from_rows and sum(from_rows.values()) == 100,
       f"the log's outcomes {dict(from_log)} equal the sagas family's {dict(from_rows)}")
expect(from_rows["compensated"] > 0 and from_rows["completed"] > 0,
       "the runs had both completed and compensated sagas")
summary = [json.loads(r.stdout) for r in (first, second)]
expect(sum(s["completed"] for s in summary) == from_rows["completed"],
       "the runs' summaries count the same completed sagas")

finish(work)
