#!/usr/bin/env python3
"""A cluster on 127.0.0.1: a coordinator (`run --listen`, no local stages)
and two workers run 2,000 sagas; one worker is killed with SIGKILL mid-run.

Every saga must end terminal with gap-free sequence numbers, the coordinator
must say which calls it sent again, at least one of those must have ended
elsewhere, and the surviving worker must exit 0 when the run ends. Also: a
worker with a wrong token is refused on both sides, and one naming a step the
workflow lacks is refused before it connects. Waits are conditions with
deadlines, never sleeps that guess at timing.

Usage: cluster_test.py NEXUS SOURCE_DIR
"""
import datetime
import json
import os
import random
import re
import socket
import signal
import subprocess
import sys
import tempfile
import time

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
import log_check  # noqa: E402
from checks import communicate, expect, finish, free_port, stop_all, wait_for  # noqa: E402

SAGAS = 2000
procs = []




def start(args, **kw):
    p = subprocess.Popen([nexus] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    procs.append(p)
    return p


def coordinator_run(wf, workers, sagas=0, port=0):
    """A `run --listen` of `wf` that waits for `workers` and runs no steps
    itself, generating `sagas` (0: it only resumes); returns it and its port."""
    generate = ["--generate", str(sagas), "--saga", "order"] if sagas else []
    p = start(["run", wf] + generate + ["--json", "--no-progress", "--listen", f"127.0.0.1:{port}",
                                        "--expect-workers", str(workers), "--local-stages", "off"])
    m = re.search(r"coordinator listening on 127\.0\.0\.1:(\d+)", p.stderr.readline().decode())
    expect(m is not None, "the coordinator says where it listens")
    return p, m.group(1) if m else "0"


def log_lines(path):
    try:
        with open(path, "rb") as f:
            complete = f.read().split(b"\n")[:-1]  # the last line may be half written
            return [json.loads(l) for l in complete]
    except FileNotFoundError:
        return []


work = tempfile.mkdtemp(prefix="nexus-cluster-")
data = os.path.join(work, "data")
workflow = os.path.join(work, "wf.json")
with open(workflow, "w") as f:
    json.dump({
        "runtime": {"data_dir": data, "durability": "async", "max_in_flight": 300},
        "cluster": {"name": "test-cluster", "token": "s3cret"},
        "defaults": {"retry": {"max_attempts": 3, "initial_interval_ms": 5}},
        "sagas": {"order": {"steps": [
            {"name": "reserve", "action": {"kind": "simulate", "latency_ms": 15, "fail_rate": 0.05},
             "compensate": {"kind": "simulate", "latency_ms": 2}},
            {"name": "charge", "action": {"kind": "simulate", "latency_ms": 15, "fail_rate": 0.05,
                                          "fail_kind": "permanent"},
             "compensate": {"kind": "simulate", "latency_ms": 2}},
            {"name": "ship", "action": {"kind": "simulate", "latency_ms": 15}}]}}}, f)

try:
    coordinator, port = coordinator_run(workflow, 2, SAGAS)
    join = f"127.0.0.1:{port}"

    # Refused joins: a wrong token (refused by the coordinator, said on both sides) and an
    # unknown step (refused before connecting).
    bad = subprocess.run([nexus, "worker", workflow, "--join", join, "--reconnect-for", "5"],
                         capture_output=True, env=dict(os.environ, NEXUS_CLUSTER_TOKEN="wrong"))
    expect(bad.returncode == 2 and b"wrong cluster token" in bad.stderr,
           f"a worker with a wrong token is refused, exit 2: {bad.stderr[-200:]!r}")
    bad = subprocess.run([nexus, "worker", workflow, "--join", join, "--stages", "nope"],
                         capture_output=True)
    expect(bad.returncode == 2 and b"no step nope" in bad.stderr,
           f"a worker naming an unknown step is refused, exit 2: {bad.stderr[-200:]!r}")

    # Strangers on the port: random bytes, a CAF-like header of garbage, an idle
    # connection that closes. The coordinator keeps running and runs nothing for them.
    rng = random.Random(7)
    for payload in (bytes(rng.getrandbits(8) for _ in range(4096)),
                    b"\x00" * 64 + bytes(rng.getrandbits(8) for _ in range(64)), b""):
        with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as sock:
            sock.sendall(payload)
    # One that waits for the gateway's handshake, as a CAF node would, then sends garbage.
    with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as sock:
        expect(len(sock.recv(4096)) > 0, "the gateway speaks first")
        sock.sendall(b"\x07" + bytes(rng.getrandbits(8) for _ in range(200)))
        sock.recv(4096)  # the front closes it
    expect(coordinator.poll() is None, "the coordinator keeps running after random bytes")
    coord_log = os.path.join(data, "logs", "nexus.jsonl")
    # Sent at once, the bytes may come before or after the gateway's handshake has gone out:
    # either way the connection is turned away and logged with its address.
    refused = lambda: [l for l in log_lines(coord_log)  # noqa: E731
                       if l["msg"].startswith("a connection from 127.0.0.1:")
                       and l["msg"].endswith("not a Nexus node")]
    wait_for("the three garbage connections are logged, the empty one is not",
             lambda: len(refused()) == 3)

    w1 = start(["worker", workflow, "--join", join, "--node", "w1", "--capacity", "40"])
    w2 = start(["worker", workflow, "--join", join, "--node", "w2", "--capacity", "40"])
    wait_for("both workers joined",
             lambda: sum("joined:" in l["msg"] for l in log_lines(coord_log)) == 2)
    expect(any("refused: wrong cluster token" in l["msg"] for l in log_lines(coord_log)),
           "the coordinator logged the refused token")
    # Kill one worker once the run is well under way.
    wait_for("300 sagas ended",
             lambda: sum(l["msg"].startswith("saga ended") for l in log_lines(coord_log)) >= 300)
    killed_at = time.time()
    w1.send_signal(signal.SIGKILL)
    w1.wait()
    out, err = coordinator.communicate(timeout=300)
    expect(coordinator.returncode == 0, f"the coordinator exits 0: {err[-300:]!r}")
    summary = json.loads(out)
    ended = summary["completed"] + summary["compensated"] + summary["failed"]
    expect(ended == SAGAS, f"every saga ended: {summary}")
    sagas = log_check.check(data)  # gap-free sequence numbers, rows agree with events
    expect(len(sagas) == SAGAS and all(s["status"] in ("completed", "compensated", "failed")
                                       for s in sagas.values()),
           f"all {len(sagas)} sagas are terminal in the event log, gap-free")
    lines = log_lines(coord_log)
    lost = [l for l in lines if l["msg"].startswith("node w1 lost")]
    expect(len(lost) == 1, f"the coordinator saw w1 lost: {[l['msg'] for l in lost]}")
    if lost:
        seen = datetime.datetime.strptime(lost[0]["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        print(f"info: the coordinator saw the killed worker lost {1000 * (seen - killed_at):.1f} ms "
              "after SIGKILL")
    again = [l for l in lines if l["msg"].startswith("call sent again: node w1 was lost")]
    expect(len(again) >= 1, f"{len(again)} calls in flight on w1 were sent again")
    finished_elsewhere = 0
    for l in again:
        events = sagas[l["correlation_id"]]["events"]
        if any(e["type"] in ("step_succeeded", "step_failed", "compensation_succeeded",
                             "compensation_failed")
               and e.get("step") == l["step"] and e.get("attempt") == l["attempt"] for e in events):
            finished_elsewhere += 1
    expect(finished_elsewhere >= 1,
           f"{finished_elsewhere} of the calls sent again ended on the other worker")
    w2.wait(timeout=60)
    expect(w2.returncode == 0, "the surviving worker exits 0 when the run ends")

    # The coordinator killed with SIGKILL mid-run and restarted on the same port: it resumes
    # every unfinished saga from its log, and the worker, which lost it, rejoins by itself.
    data2 = os.path.join(work, "data2")
    wf2 = os.path.join(work, "wf2.json")
    with open(workflow) as f:
        spec = json.load(f)
    spec["runtime"]["data_dir"] = data2
    with open(wf2, "w") as f:
        json.dump(spec, f)
    first, port = coordinator_run(wf2, 1, 1000, free_port())  # listened on again below
    w3 = start(["worker", wf2, "--join", f"127.0.0.1:{port}", "--node", "w3", "--reconnect-for", "60"])
    log2 = os.path.join(data2, "logs", "nexus.jsonl")
    wait_for("200 sagas ended before the coordinator is killed",
             lambda: sum(l["msg"].startswith("saga ended") for l in log_lines(log2)) >= 200)
    first.send_signal(signal.SIGKILL)
    first.wait()
    w3_log = os.path.join(data2, "logs", "worker-w3.jsonl")
    wait_for("the worker noticed its coordinator gone",
             lambda: any(l["msg"].startswith("lost the coordinator") for l in log_lines(w3_log)))
    second, _ = coordinator_run(wf2, 1, port=port)
    out, err = second.communicate(timeout=300)
    expect(second.returncode == 0, f"the restarted coordinator exits 0: {err[-300:]!r}")
    summary = json.loads(out)
    expect(summary["resumed"] > 0 and summary["started"] == 0,
           f"it resumed the unfinished sagas and started none: {summary}")
    sagas = log_check.check(data2)
    # (Generated sagas it had not started yet were never in the log: only those it had are.)
    expect(len(sagas) >= 200 and all(s["status"] in ("completed", "compensated", "failed")
                                     for s in sagas.values()),
           f"all {len(sagas)} sagas the killed coordinator had started are terminal, gap-free")
    joins = [l for l in log_lines(w3_log) if l["msg"].startswith("joined the coordinator")]
    expect(len(joins) == 2, f"the worker joined twice, the second time by itself: {len(joins)}")
    w3.wait(timeout=60)
    expect(w3.returncode == 0, "the worker exits 0 once the resumed run ends")

    # A worker that hangs (SIGSTOP) is dropped by the heartbeats' connection timeout, and its
    # calls go to the other worker.
    data3 = os.path.join(work, "data3")
    wf3 = os.path.join(work, "wf3.json")
    spec["runtime"]["data_dir"] = data3
    with open(wf3, "w") as f:
        json.dump(spec, f)
    third, port = coordinator_run(wf3, 2, 600)
    h1 = start(["worker", wf3, "--join", f"127.0.0.1:{port}", "--node", "h1", "--reconnect-for", "3"])
    h2 = start(["worker", wf3, "--join", f"127.0.0.1:{port}", "--node", "h2"])
    log3 = os.path.join(data3, "logs", "nexus.jsonl")
    wait_for("100 sagas ended before a worker hangs",
             lambda: sum(l["msg"].startswith("saga ended") for l in log_lines(log3)) >= 100)
    stopped_at = time.time()
    h1.send_signal(signal.SIGSTOP)
    out, err = third.communicate(timeout=300)
    h1.send_signal(signal.SIGCONT)
    expect(third.returncode == 0 and json.loads(out)["completed"] + json.loads(out)["compensated"]
           + json.loads(out)["failed"] == 600, f"every saga ended despite a hung worker: {out!r}")
    hung = [l for l in log_lines(log3) if l["msg"].startswith("node h1 lost")]
    expect(len(hung) == 1, "the hung worker was dropped")
    if hung:
        seen = datetime.datetime.strptime(hung[0]["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        print(f"info: the coordinator dropped the hung worker {seen - stopped_at:.2f} s after "
              "SIGSTOP (connection timeout 5 s, heartbeats every 0.5 s)")
    h2.wait(timeout=60)
    expect(h2.returncode == 0, "the other worker exits 0")
    # The hung worker missed the end of the run: it cannot tell it from a lost coordinator, so
    # it looks for it for --reconnect-for seconds, then exits 1 saying what it could not know.
    _, err = communicate(h1, "the thawed worker gives up", 60)
    expect(h1.returncode == 1 and b"did not come back within 3 s" in err
           and b"ended its run while this node could not hear it" in err,
           f"the worker that missed the end exits 1, saying why: {err[-400:]!r}")

    # --stay: a worker outlives the end of a run and serves the next one on the same port.
    data4 = os.path.join(work, "data4")
    wf4 = os.path.join(work, "wf4.json")
    spec["runtime"]["data_dir"] = data4
    with open(wf4, "w") as f:
        json.dump(spec, f)
    first, port = coordinator_run(wf4, 1, 50, free_port())  # listened on again below
    stay = start(["worker", wf4, "--join", f"127.0.0.1:{port}", "--node", "s1", "--stay"])
    out, _ = first.communicate(timeout=120)
    expect(first.returncode == 0 and json.loads(out)["completed"] + json.loads(out)["compensated"] == 50,
           "the first run ends")
    expect(stay.poll() is None, "the --stay worker is still there")
    second, _ = coordinator_run(wf4, 1, 50, port)
    out, err = second.communicate(timeout=120)
    expect(second.returncode == 0 and json.loads(out)["completed"] + json.loads(out)["compensated"] == 50,
           f"the --stay worker served the next run on the same port: {err[-200:]!r}")
    stay.send_signal(signal.SIGTERM)
    stay.wait(timeout=30)
    expect(stay.returncode == 0, "SIGTERM stops the --stay worker, exit 0")

    # A worker whose workflow file is older than the coordinator's runs each call as the
    # saga's own definition says (sent with its first call), not as its file does.
    data5 = os.path.join(work, "data5")
    ledger = os.path.join(work, "ledger5")
    def stamping(tag):
        return {"runtime": {"data_dir": data5, "durability": "async"},
                "cluster": spec["cluster"],
                "sagas": {"order": {"steps": [{"name": "stamp", "action": {
                    "kind": "exec", "argv": ["sh", "-c", f'echo "$NEXUS_CORRELATION_ID {tag}" >> {ledger}; echo {{}}']}}]}}}
    new_wf, old_wf = os.path.join(work, "wf5-new.json"), os.path.join(work, "wf5-old.json")
    for path, tag in ((new_wf, "new"), (old_wf, "old")):
        with open(path, "w") as f:
            json.dump(stamping(tag), f)
    fifth, port = coordinator_run(new_wf, 1, 5)
    older = start(["worker", old_wf, "--join", f"127.0.0.1:{port}", "--node", "o1"])
    out, err = communicate(fifth, "the run with an older worker ends", 120)
    expect(fifth.returncode == 0 and json.loads(out)["completed"] == 5,
           f"the run with an older worker completes: {err[-300:]!r}")
    with open(ledger) as f:
        stamps = [l.split()[1] for l in f]
    expect(stamps == ["new"] * 5, f"the older worker ran the saga's definition: {stamps}")
    older.wait(timeout=60)
finally:
    stop_all(procs)

finish(work)
