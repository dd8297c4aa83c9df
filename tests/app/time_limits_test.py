#!/usr/bin/env python3
"""Step timeouts and saga deadlines hold in real runs, and `events --follow`
shows only the saga it names.

- an `exec` program that closes its stdout and stderr (as a daemon does) is
  killed at its timeout, with its process group, and recorded as a timeout;
- a program that exits 0 with JSON while a background child of its own still
  holds its stdout has succeeded, runs once, and its child is gone;
- `deadline_ms: 500` cuts a running 2,000 ms step (simulated, exec and http):
  the attempt is recorded failed with a reason naming the deadline, never as
  succeeded, the saga compensates, an exec step's process group is killed;
- `events CID --follow` prints that saga's events only, even when another
  saga's input holds the text `"cid":"CID"`.

Waits are conditions with deadlines; durations are read from the events'
own timestamps, never timed here.

Usage: time_limits_test.py NEXUS SOURCE_DIR
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from datetime import datetime

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import communicate, expect, finish, stop_all, wait_for  # noqa: E402

work = tempfile.mkdtemp(prefix="nexus-time-")
step = os.path.join(src, "tests", "programs", "step.sh")
procs = []


def events_of(data, cid):
    out = subprocess.run([nexus, "events", cid, "--json", "--data-dir", data],
                         capture_output=True, timeout=60)
    return [json.loads(l) for l in out.stdout.decode().splitlines()]


def micros(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1e6


def process_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def run(name, workflow, lines):
    data = os.path.join(work, name)
    path = os.path.join(work, name + ".json")
    workflow["runtime"] = {"data_dir": data, "durability": "async"}
    with open(path, "w") as f:
        json.dump(workflow, f)
    inputs = os.path.join(work, name + ".jsonl")
    with open(inputs, "w") as f:
        f.write("".join(json.dumps(l) + "\n" for l in lines))
    p = subprocess.Popen([nexus, "run", path, "--input", inputs, "--json", "--no-progress"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    out, err = communicate(p, f"the {name} run ends", 60)
    expect(p.returncode == 0, f"the {name} run exits 0: {err[-300:]!r}")
    return data


def exec_action(*args):
    return {"kind": "exec", "argv": ["sh", step, *args]}


simulate = {"kind": "simulate"}

try:
    # A daemon-like program past its timeout.
    pidfile = os.path.join(work, "daemon.pid")
    data = run("daemon", {"sagas": {"d": {"steps": [
        {"name": "a", "action": simulate, "compensate": simulate},
        {"name": "bg", "timeout_ms": 1000, "retry": {"max_attempts": 1},
         "action": exec_action("daemon", pidfile)}]}}},
        [{"saga": "d", "correlation_id": "d-1"}])
    ev = events_of(data, "d-1")
    failed = [e for e in ev if e["type"] == "step_failed" and e["step"] == "bg"]
    # The attempt's time is counted from the saga's call, so the program gets
    # what is left of the 1000 ms once a worker takes it (a few ms less under
    # load); the stage's overrun guard, 3 s later, would say something else.
    limit = re.search(r"did not finish within (\d+) ms: its process group was killed",
                      failed[0]["message"]) if len(failed) == 1 else None
    expect(limit is not None and failed[0]["error_kind"] == "timeout"
           and 900 <= int(limit.group(1)) <= 1000,
           f"the program that closed its pipes timed out at its own timeout: {failed}")
    expect(ev[-1]["type"] == "saga_compensated", "and the saga compensated")
    with open(pidfile) as f:
        pid = int(f.read())
    expect(process_gone(pid), "its process was killed, not waited for")

    # A program that exits 0 with a background child holding its stdout.
    leftover, ledger = os.path.join(work, "leftover.pid"), os.path.join(work, "ledger")
    data = run("leftover", {"sagas": {"l": {"steps": [
        {"name": "a", "action": exec_action("ledger", ledger), "compensate": simulate},
        {"name": "b", "timeout_ms": 2000, "action": exec_action("leftover", leftover),
         "compensate": simulate}]}}},
        [{"saga": "l", "correlation_id": "l-1"}])
    ev = events_of(data, "l-1")
    b = [e for e in ev if e.get("step") == "b"]
    expect([e["type"] for e in b] == ["step_started", "step_succeeded"]
           and b[1].get("output") == {"ok": 1},
           f"it succeeded at its first attempt with its output: {[e['type'] for e in b]}")
    expect(ev[-1]["type"] == "saga_completed", "and the saga completed")
    with open(leftover) as f:
        child = int(f.read())
    expect(process_gone(child), "the child it left behind was killed with its process group")

    # The deadline cuts what runs: simulated, exec and http steps of 2,000 ms or more.
    server = subprocess.Popen(["python3", os.path.join(src, "tests", "programs", "http_server.py")],
                              stdout=subprocess.PIPE)
    procs.append(server)
    port = int(server.stdout.readline().split()[0])
    tree = os.path.join(work, "tree.pid")
    slow = {"sim": {"kind": "simulate", "latency_ms": 2000},
            "exec": exec_action("tree", tree),
            "http": {"kind": "http", "url": f"http://127.0.0.1:{port}/slow"}}
    sagas = {f"late_{kind}": {"deadline_ms": 500, "steps": [
        {"name": "a", "action": simulate, "compensate": simulate},
        {"name": "b", "timeout_ms": 10000, "action": action, "compensate": simulate}]}
        for kind, action in slow.items()}
    data = run("deadline", {"sagas": sagas},
               [{"saga": s, "correlation_id": s.replace("_", "-")} for s in sagas])
    for saga in sagas:
        ev = events_of(data, saga.replace("_", "-"))
        b = [e for e in ev if e.get("step") == "b"]
        types = [e["type"] for e in b]
        failed = [e for e in b if e["type"] == "step_failed"]
        expect("step_succeeded" not in types and len(failed) == 1
               and failed[0]["error_kind"] == "timeout"
               and "the saga's deadline (500 ms) passed" in failed[0]["message"],
               f"{saga}: its running attempt was cut, naming the deadline: {failed}")
        cut_after = (micros(failed[0]["ts"]) - micros(ev[0]["ts"])) / 1000 if failed else 0
        expect(0 < cut_after < 2000, f"{saga}: cut {cut_after:.0f} ms in, before the step's 2,000")
        expect([e["type"] for e in ev[-3:]] == ["compensation_started", "compensation_succeeded",
                                               "saga_compensated"]
               and ev[-3]["step"] == "a", f"{saga}: then a was compensated: {ev[-3:]}")
    with open(tree) as f:
        child = int(f.read())
    expect(process_gone(child), "the exec step's process group was killed at the deadline")

    # events --follow for one saga, beside a saga whose input holds its ID's text.
    data = os.path.join(work, "follow")
    path = os.path.join(work, "follow.json")
    with open(path, "w") as f:
        json.dump({"runtime": {"data_dir": data, "durability": "async"},
                   "sagas": {"s": {"steps": [{"name": "a", "action": simulate}]}}}, f)
    subprocess.run([nexus, "run", path, "--generate", "1", "--saga", "s", "--no-progress"],
                   capture_output=True, timeout=60)  # the log exists before following it
    follower = subprocess.Popen([nexus, "events", "a", "--follow", "--json", "--poll-ms", "20",
                                 "--data-dir", data], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(follower)
    expect(b"following" in follower.stderr.readline(), "the follower has started")
    inputs = os.path.join(work, "follow.jsonl")
    with open(inputs, "w") as f:
        f.write(json.dumps({"saga": "s", "correlation_id": "x", "input": {"parent": {"cid": "a"}}})
                + "\n" + json.dumps({"saga": "s", "correlation_id": "a"}) + "\n")
    subprocess.run([nexus, "run", path, "--input", inputs, "--no-progress"], capture_output=True,
                   timeout=60)
    seen = []
    def saw_the_end():
        seen.append(json.loads(follower.stdout.readline()))
        return seen[-1]["type"] == "saga_completed"
    wait_for("the follower shows saga a's end", saw_the_end, 30)
    follower.send_signal(signal.SIGINT)
    communicate(follower, "the follower stops on SIGINT", 30)
    expect(seen and all(e["cid"] == "a" for e in seen),
           f"it showed saga a's events only: {[e['cid'] for e in seen]}")
finally:
    stop_all(procs)

finish(work)
