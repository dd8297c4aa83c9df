#!/usr/bin/env python3
"""Flood: for 30 seconds, 2,000 sagas at a time call a stage of 4 workers
(20 ms a call) with a queue of 64: the calls come far faster than the stage
serves them, the queue refuses the rest (circuit_open, retried with backoff)
and the coordinator starts no new saga while the stage is full. Resident
memory must level off (no mailbox or queue growing without bound), the
process must keep making progress, and the log it leaves when killed must be
sound and resume to the end.

Usage: flood_test.py NEXUS SOURCE_DIR
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import expect, finish  # noqa: E402
import log_check  # noqa: E402

SECONDS = 30
work = tempfile.mkdtemp(prefix="nexus-flood-")
data = os.path.join(work, "data")
wf = os.path.join(work, "wf.json")
with open(wf, "w") as f:
    json.dump({
        "runtime": {"data_dir": data, "max_in_flight": 2000},
        "logging": {"level": "warn"},
        "defaults": {"retry": {"max_attempts": 5, "initial_interval_ms": 5, "max_interval_ms": 50}},
        "sagas": {"flood": {"steps": [
            {"name": "fast", "action": {"kind": "simulate"}},
            {"name": "slow", "concurrency": 4, "queue": 64,
             "action": {"kind": "simulate", "latency_ms": 20}}]}},
    }, f)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


run = subprocess.Popen([nexus, "run", wf, "--generate", "100000000", "--saga", "flood",
                        "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
samples = []
start = time.monotonic()
while time.monotonic() - start < SECONDS and run.poll() is None:
    time.sleep(1)  # a sample a second: this test watches a process over time
    samples.append((time.monotonic() - start, rss_mib(run.pid)))
alive = run.poll() is None
expect(alive, f"the run is still going after {SECONDS} s")
run.send_signal(signal.SIGKILL)
_, err = run.communicate(timeout=30)

# Under ASan, resident memory is mostly its quarantine of freed blocks and
# its shadow, which grow by design: the bounds mean something only without.
sanitized = os.environ.get("NEXUS_SANITIZED", "")
if samples:
    early = max(r for t, r in samples if t <= 10) if any(t <= 10 for t, _ in samples) else 0
    late = max(r for _, r in samples)
    print("RSS MiB by second:", " ".join(f"{r:.0f}" for _, r in samples))
    if sanitized:
        print(f"skipped: the memory bounds (built with {sanitized})")
    else:
        expect(late < 400, f"resident memory stays under 400 MiB (peak {late:.0f})")
        expect(late <= early + 64,
               f"and levels off: {early:.0f} MiB in the first 10 s, {late:.0f} at most after")

sagas = log_check.check(data)
ended = sum(1 for s in sagas.values() if s["status"] in log_check.TERMINAL)
expect(ended > 2000, f"the stage kept serving: {ended} sagas ended in {SECONDS} s")
unfinished = len(sagas) - ended
expect(unfinished <= 2000, f"at most max_in_flight sagas were unfinished at the kill ({unfinished})")

# What the kill left resumes to the end.
again = subprocess.run([nexus, "run", wf, "--no-progress", "--json"], capture_output=True, timeout=300)
expect(again.returncode == 0, f"the restart finishes ({again.stderr[-300:]!r})")
summary = json.loads(again.stdout) if again.returncode == 0 else {}
expect(summary.get("resumed") == unfinished, f"resuming the {unfinished} unfinished: {summary}")
sagas = log_check.check(data)
expect(all(s["status"] in log_check.TERMINAL for s in sagas.values()), "every saga ended")

finish(work)
