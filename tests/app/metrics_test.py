#!/usr/bin/env python3
"""GET /metrics on a `nexus serve` through the real binary: the Prometheus
text format that Debian's `promtool check metrics` accepts, the counts of
the sagas the test ran by saga and status, their step attempts by outcome
and their durations, a breaker's transitions, the log's batches, the
cluster's nodes, the HTTP requests by route template and code (no
correlation ID in any label); the stages' figures and attempt durations on
the `nexus worker --metrics` that ran every step (the coordinator runs
none: --local-stages off); then a real Prometheus server from Debian
scrapes both on 127.0.0.1, and a PromQL query through its HTTP API returns
the number of sagas the test ran. Last, `nexus run --metrics` serves a run's
figures while it lasts (a saga parked on a wait, fed from standard input),
and a bad --metrics is refused with exit 2.

Waits are conditions with deadlines (?wait on the API, polling Prometheus's
query API until its scrape has come).

Usage: metrics_test.py NEXUS SOURCE_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import communicate, expect, finish, free_port, http_call, stop_all, wait_for  # noqa: E402

for tool in ("promtool", "prometheus"):
    if shutil.which(tool) is None:
        print(f"skipped: no {tool} (scripts/setup installs Debian's prometheus)")
        sys.exit(77)

work = tempfile.mkdtemp(prefix="nexus-metrics-")
data = os.path.join(work, "data")
procs = []
OK, BAD = 5, 3

wf = os.path.join(work, "wf.json")
with open(wf, "w") as f:
    # Step b of `bad` fails for good on every attempt, behind a breaker that
    # opens after two failures (and lets a trial through 100 ms later).
    json.dump({"runtime": {"data_dir": data},
               "breakers": {"flaky": {"window": {"type": "count", "size": 2}, "minimum_calls": 2,
                                      "open_ms": 100, "half_open_calls": 1}},
               "sagas": {
                   "ok": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]},
                   "bad": {"steps": [
                       {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
                       {"name": "b", "resource": "flaky",
                        "action": {"kind": "simulate", "fail_rate": 1.0, "fail_kind": "permanent"}}]},
                   "later": {"steps": [{"name": "w", "action": {"kind": "wait", "signal": "go",
                                                                 "timeout_ms": 600000}}]}}}, f)


def http(port, method, path, body=None):
    status, headers, text = http_call(port, method, path, body)
    return status, headers.get("Content-Type", ""), text


def listening(proc, pattern, what):
    """The port in the first line of `proc`'s stderr that matches `pattern`."""
    for _ in range(20):
        line = proc.stderr.readline().decode()
        m = re.search(pattern, line)
        if m:
            return int(m.group(1))
        if not line:
            break
    expect(False, f"{what} says where it listens")
    return 0


def lint(text, what):
    run = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=60)
    expect(run.returncode == 0, f"promtool check metrics accepts {what}: {run.stdout}{run.stderr}")


def sample(text, name, **labels):
    """The value of the sample `name{labels}` in an exposition, or None."""
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if got == {k: str(v) for k, v in labels.items()}:
            return float(m.group(4))
    return None


try:
    serve = subprocess.Popen([nexus, "serve", wf, "--http", "127.0.0.1:0", "--listen", "127.0.0.1:0",
                              "--local-stages", "off", "--grace-seconds", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(serve)
    gateway = listening(serve, r"coordinator listening on 127\.0\.0\.1:(\d+)", "serve's gateway")
    port = listening(serve, r"http listening on 127\.0\.0\.1:(\d+)", "serve's HTTP API")
    worker = subprocess.Popen([nexus, "worker", wf, "--join", f"127.0.0.1:{gateway}",
                               "--metrics", "127.0.0.1:0", "--data-dir", work],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(worker)
    worker_port = listening(worker, r"metrics on http://127\.0\.0\.1:(\d+)/metrics", "the worker")
    wait_for("the worker joins", lambda: sample(http(port, "GET", "/metrics")[2],
                                                 "nexus_cluster_nodes") == 1, 30)

    for i in range(OK):
        http(port, "POST", "/v1/sagas/ok", {"correlation_id": f"ok-{i}"})
    for i in range(BAD):
        http(port, "POST", "/v1/sagas/bad", {"correlation_id": f"bad-{i}"})
    ends = [json.loads(http(port, "GET", f"/v1/sagas/{cid}?wait=30")[2]).get("status")
            for cid in [f"ok-{i}" for i in range(OK)] + [f"bad-{i}" for i in range(BAD)]]
    expect(ends == ["completed"] * OK + ["compensated"] * BAD, f"the sagas ended: {ends}")

    status, ctype, text = http(port, "GET", "/metrics")
    expect(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
           f"GET /metrics answers the text format: {status} {ctype}")
    lint(text, "serve's")
    expect(sample(text, "nexus_sagas_started_total", saga="ok") == OK
           and sample(text, "nexus_sagas_started_total", saga="bad") == BAD,
           "sagas started, by saga")
    expect(sample(text, "nexus_sagas_ended_total", saga="ok", status="completed") == OK
           and sample(text, "nexus_sagas_ended_total", saga="bad", status="compensated") == BAD
           and sample(text, "nexus_sagas_ended_total", saga="bad", status="completed") == 0,
           "sagas ended, by saga and status")
    expect(sample(text, "nexus_sagas_in_memory") == 0 and sample(text, "nexus_sagas_parked") == 0,
           "none in memory or parked once all have ended")
    expect(sample(text, "nexus_http_requests_total", route="/v1/sagas/{saga}", code="201") == OK + BAD
           and sample(text, "nexus_http_requests_total", route="/v1/sagas/{cid}", code="200") == OK + BAD,
           "HTTP requests by route template and code")
    def attempts(saga, step, outcome, kind="action"):
        return sample(text, "nexus_step_attempts_total", saga=saga, step=step, kind=kind,
                      outcome=outcome)
    expect(attempts("ok", "a", "succeeded") == OK and attempts("ok", "a", "permanent") == 0
           and attempts("bad", "a", "succeeded") == BAD
           and attempts("bad", "b", "permanent") == BAD
           and attempts("bad", "a", "succeeded", "compensation") == BAD,
           "step attempts by saga, step, kind and outcome")
    expect(sample(text, "nexus_saga_duration_seconds_count", saga="ok", status="completed") == OK
           and sample(text, "nexus_saga_duration_seconds_count", saga="bad", status="compensated") == BAD
           and sample(text, "nexus_saga_duration_seconds_bucket", saga="ok", status="completed",
                      le="+Inf") == OK,
           "saga durations by saga and status")
    expect(sample(text, "nexus_breaker_transitions_total", resource="flaky", to="open") >= 1,
           "the breaker's transitions: it opened")
    expect(sample(text, "nexus_stage_calls_total", stage="ok/a") is None,
           "no stage figures where no stage runs (--local-stages off)")
    batches = sample(text, "nexus_log_write_batches_total") or 0
    expect((sample(text, "nexus_log_events_written_total") or 0) > 0 and batches > 0
           and sample(text, "nexus_log_write_batch_events_count") == batches
           and sample(text, "nexus_log_write_duration_seconds_count") == batches
           and 0 < (sample(text, "nexus_log_sync_duration_seconds_count") or 0) <= batches
           and sample(text, "nexus_log_write_batch_events_sum")
           == sample(text, "nexus_log_events_written_total")
           and (sample(text, "nexus_log_written_bytes_total") or 0) > 0, "the log's writes")
    expect(sample(text, "nexus_cluster_nodes_joined_total") == 1
           and sample(text, "nexus_cluster_nodes") == 1, "the cluster's nodes")

    status, ctype, wtext = http(worker_port, "GET", "/metrics")
    expect(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
           f"the worker's --metrics answers the text format: {status} {ctype}")
    lint(wtext, "the worker's")
    expect(sample(wtext, "nexus_stage_calls_total", stage="ok/a") == OK
           and sample(wtext, "nexus_stage_calls_total", stage="bad/a") == 2 * BAD
           and sample(wtext, "nexus_step_duration_seconds_count", saga="ok", step="a",
                      kind="action") == OK
           and sample(wtext, "nexus_step_duration_seconds_count", saga="bad", step="a",
                      kind="compensation") == BAD
           and sample(wtext, "nexus_stage_queue_depth", stage="ok/a") == 0,
           "the worker's stages: calls and attempt durations, by saga and step")
    expect(http(worker_port, "GET", "/v1/stats")[0] == 404
           and http(worker_port, "POST", "/metrics")[0] == 405,
           "the worker's metrics port serves GET /metrics only")
    expect((sample(text, "process_resident_memory_bytes") or 0) > 1 << 20
           and sample(text, "process_cpu_seconds_total") is not None, "the process's memory and CPU")
    expect(not any(f"ok-{i}" in text for i in range(OK)), "no correlation ID in any label")

    # A real Prometheus scrapes it, and PromQL counts the sagas.
    prom_port = free_port()
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nexus\n"
                f"    static_configs:\n      - targets: ['127.0.0.1:{port}', '127.0.0.1:{worker_port}']\n")
    prom = subprocess.Popen(["prometheus", f"--config.file={config}",
                             f"--storage.tsdb.path={os.path.join(work, 'tsdb')}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prom.log"), "w"))
    procs.append(prom)

    def query(q):
        url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                result = json.loads(r.read())["data"]["result"]
                return float(result[0]["value"][1]) if result else None
        except (OSError, ValueError, KeyError):
            return None

    wait_for("Prometheus scrapes nexus and counts the sagas",
             lambda: query("sum(nexus_sagas_ended_total)") == OK + BAD, 60)
    expect(query('sum(nexus_sagas_ended_total{status="compensated"})') == BAD,
           "PromQL by status")
    wait_for("Prometheus scrapes the worker",
             lambda: query('sum(nexus_stage_calls_total{stage="ok/a"})') == OK, 60)
    prom.terminate()
    communicate(prom, "prometheus stops", 30)
    worker.terminate()
    communicate(worker, "the worker stops on SIGTERM", 60)
    serve.terminate()
    communicate(serve, "serve stops on SIGTERM", 60)

    # nexus run --metrics: the figures of a run while it lasts.
    run = subprocess.Popen([nexus, "run", wf, "--input", "-", "--data-dir", os.path.join(work, "run"),
                            "--metrics", "127.0.0.1:0", "--no-progress", "--json"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(run)
    run_port = listening(run, r"metrics on http://127\.0\.0\.1:(\d+)/metrics", "nexus run")
    run.stdin.write(b'{"saga":"later","correlation_id":"l-1"}\n')
    run.stdin.flush()
    wait_for("the run's saga parks on its wait",
             lambda: sample(http(run_port, "GET", "/metrics")[2], "nexus_sagas_parked") == 1, 30)
    rtext = http(run_port, "GET", "/metrics")[2]
    lint(rtext, "the run's")
    expect(sample(rtext, "nexus_sagas_started_total", saga="later") == 1
           and (sample(rtext, "nexus_stage_busy_workers", stage="ok/a") == 0),
           "the run's figures: its saga started, its stages idle")
    run.stdin.write(b'{"signal":"go","correlation_id":"l-1"}\n')
    run.stdin.close()
    run.stdin = None  # its end of input: communicate() has nothing to send
    out, err = communicate(run, "the run ends once its saga has its signal", 60)
    summary = json.loads(out or "{}")
    expect(run.returncode == 0 and summary.get("completed") == 1,
           f"the run completed its saga: {run.returncode} {out!r} {err!r}")

    bad = subprocess.run([nexus, "run", wf, "--generate", "1", "--saga", "ok", "--data-dir",
                          os.path.join(work, "bad"), "--metrics", "nowhere", "--no-progress"],
                         capture_output=True, text=True, timeout=60)
    expect(bad.returncode == 2 and "--metrics nowhere" in bad.stderr
           and not os.path.exists(os.path.join(work, "bad")),
           f"a bad --metrics: exit 2, nothing run: {bad.returncode} {bad.stderr!r}")
finally:
    stop_all(procs)
finish(work)
