#!/usr/bin/env python3
"""`nexus serve` with a worker, fed by `nexus submit`, stopped by SIGTERM.

submit prints each saga's end and exits 0; --detach returns once submitted;
a wrong token is refused (exit 2) and logged; a second submit of the same IDs
reports duplicates. SIGTERM makes serve take no more sagas and exit 0, and its
worker exits 0 too. Waits are conditions with deadlines.

Usage: serve_test.py NEXUS SOURCE_DIR
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
import log_check  # noqa: E402
from checks import communicate, expect, finish, stop_all, wait_for  # noqa: E402

procs = []



work = tempfile.mkdtemp(prefix="nexus-serve-")
data = os.path.join(work, "data")
workflow = os.path.join(work, "wf.json")
with open(workflow, "w") as f:
    json.dump({"runtime": {"data_dir": data, "durability": "async"},
               "cluster": {"name": "serve-test", "token": "tok"},
               "sagas": {"order": {"steps": [
                   {"name": "reserve", "action": {"kind": "simulate", "latency_ms": 2},
                    "compensate": {"kind": "simulate"}},
                   {"name": "charge", "action": {"kind": "simulate", "latency_ms": 2,
                                                 "fail_rate": 0.2, "fail_kind": "permanent"},
                    "compensate": {"kind": "simulate"}},
                   {"name": "ship", "action": {"kind": "simulate"}}]}}}, f)
requests = os.path.join(work, "in.jsonl")
with open(requests, "w") as f:
    for i in range(100):
        f.write(json.dumps({"saga": "order", "correlation_id": f"sub-{i}", "input": {"n": i}}) + "\n")
env = dict(os.environ, NEXUS_CLUSTER_TOKEN="tok")

try:
    serve = subprocess.Popen([nexus, "serve", workflow, "--listen", "127.0.0.1:0", "--json",
                              "--local-stages", "off"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    procs.append(serve)
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", serve.stderr.readline().decode())
    expect(m is not None, "serve says where it listens")
    to = f"127.0.0.1:{m.group(1)}"
    worker = subprocess.Popen([nexus, "worker", workflow, "--join", to, "--node", "w"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    procs.append(worker)

    sub = subprocess.run([nexus, "submit", "--to", to, "--cluster", "serve-test", requests, "--json"],
                         capture_output=True, env=env, timeout=120)
    expect(sub.returncode == 0, f"submit exits 0 once every saga ended: {sub.stderr[-300:]!r}")
    lines = [json.loads(l) for l in sub.stdout.decode().splitlines()]
    started = {l["cid"] for l in lines if l["status"] == "started"}
    ends = {l["cid"]: l["status"] for l in lines if l["status"] in ("completed", "compensated")}
    expect(len(started) == 100 and set(ends) == started,
           f"it printed 100 starts and each one's end ({len(started)} started, {len(ends)} ended)")
    expect("compensated" in ends.values() and "completed" in ends.values(),
           "both completed and compensated ends were reported")

    again = subprocess.run([nexus, "submit", "--to", to, "--cluster", "serve-test", requests],
                           capture_output=True, env=env, timeout=60)
    expect(again.returncode == 0 and again.stdout.decode().count("duplicate") == 100,
           "a second submit of the same IDs reports 100 duplicates")
    bad = subprocess.run([nexus, "submit", "--to", to, "--cluster", "serve-test", requests],
                         capture_output=True, env=dict(env, NEXUS_CLUSTER_TOKEN="nope"), timeout=60)
    expect(bad.returncode == 2 and b"wrong cluster token" in bad.stderr,
           f"a submit with a wrong token is refused, exit 2: {bad.stderr[-200:]!r}")
    other = subprocess.run([nexus, "submit", "--to", to, requests], capture_output=True, env=env,
                           timeout=60)
    expect(other.returncode == 1, "a submit naming another cluster cannot connect (exit 1)")

    detached = subprocess.run([nexus, "submit", "--to", to, "--cluster", "serve-test", "--detach", "-"],
                              input=b'{"saga":"order","correlation_id":"det-1"}\n', capture_output=True,
                              env=env, timeout=60)
    expect(detached.returncode == 0 and detached.stdout.decode() == "det-1\tstarted\n",
           f"--detach returns once submitted: {detached.stdout!r}")

    serve.send_signal(signal.SIGTERM)
    out, err = communicate(serve, "serve stops on SIGTERM", 120)
    expect(serve.returncode == 0, f"serve exits 0 on SIGTERM: {err[-300:]!r}")
    summary = json.loads(out)
    expect(summary["started"] == 101 and summary["duplicates"] == 100,
           f"its summary counts what it took: {summary}")
    worker.wait(timeout=60)
    expect(worker.returncode == 0, "its worker exits 0 when it stops")
    sagas = log_check.check(data)
    expect(all(s["status"] != "running" for cid, s in sagas.items() if cid.startswith("sub-")),
           "every submitted saga ended in the log")
    stored = sum(len(s["seqs"]) for s in sagas.values())
    expect(summary["events"] == stored and summary["write_batches"] > 0,
           f"its summary counts the {stored} events it wrote: {summary}")
    log = [json.loads(l) for l in open(os.path.join(data, "logs", "nexus.jsonl"))]
    expect(any("submission" in l["msg"] and "wrong cluster token" in l["msg"] for l in log),
           "the refused submission is logged")
    expect(any(l["msg"].startswith("SIGTERM: taking no more sagas") for l in log),
           "the stop is logged")

    # SIGTERM with sagas still running and no grace: they are counted interrupted, serve exits 0,
    # and the next start resumes them to their end.
    slow = os.path.join(work, "slow.json")
    slow_data = os.path.join(work, "slow-data")
    with open(workflow) as f:
        spec = json.load(f)
    spec["runtime"]["data_dir"] = slow_data
    spec["sagas"]["order"]["steps"][0]["action"]["latency_ms"] = 1500
    with open(slow, "w") as f:
        json.dump(spec, f)
    # At most 5 live: the other 15 wait for room, in the log already.
    serve2 = subprocess.Popen([nexus, "serve", slow, "--listen", "127.0.0.1:0", "--json",
                               "--grace-seconds", "0", "--max-in-flight", "5"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    procs.append(serve2)
    to2 = "127.0.0.1:" + re.search(r":(\d+)", serve2.stderr.readline().decode()).group(1)
    lines = "".join(json.dumps({"saga": "order", "correlation_id": f"slow-{i}"}) + "\n"
                    for i in range(20))
    sub = subprocess.run([nexus, "submit", "--to", to2, "--cluster", "serve-test", "--detach", "-"],
                         input=lines.encode(), capture_output=True, env=env, timeout=60)
    expect(sub.returncode == 0, "20 slow sagas submitted")
    serve2.send_signal(signal.SIGTERM)
    out, err = serve2.communicate(timeout=60)
    summary = json.loads(out)
    expect(serve2.returncode == 0 and summary.get("interrupted") == 20,
           f"serve stopped at once, 20 sagas interrupted (5 running, 15 waiting), exit 0: {summary}")
    stored = sum(len(s["seqs"]) for s in log_check.check(slow_data).values())
    expect(summary["events"] == stored and stored >= 20 and summary["write_batches"] > 0,
           f"stopped with sagas running, it still counts the {stored} events it wrote: {summary}")
    resumed = subprocess.run([nexus, "run", slow, "--json", "--no-progress"], capture_output=True,
                             env=env, timeout=120)
    again = json.loads(resumed.stdout)
    expect(resumed.returncode == 0 and again["resumed"] == 20
           and again["completed"] + again["compensated"] == 20,
           f"the next start resumed the 20 and ended them: {again}")

    # A coordinator that stops answering while a submission waits for its answer (SIGSTOP):
    # submit notices within the connection's timeout (5 s), exits 1 and says so in a sentence.
    serve3 = subprocess.Popen([nexus, "serve", workflow, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    procs.append(serve3)
    to3 = "127.0.0.1:" + re.search(r":(\d+)", serve3.stderr.readline().decode()).group(1)
    feed = subprocess.Popen([nexus, "submit", "--to", to3, "--cluster", "serve-test", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    procs.append(feed)
    feed.stdin.write(b'{"saga":"order","correlation_id":"frozen-1"}\n')
    feed.stdin.flush()
    expect(feed.stdout.readline() == b"frozen-1\tstarted\n", "the first submission is answered")
    serve3.send_signal(signal.SIGSTOP)
    feed.stdin.write(b'{"saga":"order","correlation_id":"frozen-2"}\n')
    feed.stdin.flush()
    _, err = communicate(feed, "submit notices the coordinator stopped answering", 20)
    expect(feed.returncode == 1 and b"lost the coordinator at " + to3.encode() in err,
           f"it exits 1 saying it lost the coordinator: {err[-300:]!r}")
    serve3.send_signal(signal.SIGCONT)
    serve3.send_signal(signal.SIGTERM)
    communicate(serve3, "the thawed coordinator stops on SIGTERM", 60)
finally:
    stop_all(procs)

finish(work)
