#!/usr/bin/env python3
"""GET /metrics on a `nexus serve` through the real binary: the Prometheus
text format that Debian's `promtool check metrics` accepts, the counts of
the sagas the test ran by saga and status, the HTTP requests by route
template and code (no correlation ID in any label); then a real Prometheus
server from Debian scrapes it on 127.0.0.1, and a PromQL query through its
HTTP API returns the number of sagas the test ran.

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
from checks import communicate, expect, finish, free_port, stop_all, wait_for  # noqa: E402

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
    json.dump({"runtime": {"data_dir": data},
               "sagas": {
                   "ok": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]},
                   "bad": {"steps": [
                       {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
                       {"name": "b", "action": {"kind": "simulate", "fail_rate": 1.0,
                                                "fail_kind": "permanent"}}]}}}, f)


def http(port, method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=70) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


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
    serve = subprocess.Popen([nexus, "serve", wf, "--http", "127.0.0.1:0", "--grace-seconds", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(serve)
    line = serve.stderr.readline().decode()
    m = re.search(r"http listening on 127\.0\.0\.1:(\d+)", line)
    expect(m is not None, f"serve says where it listens: {line!r}")
    port = int(m.group(1)) if m else 0

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
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=60)
    expect(lint.returncode == 0, f"promtool check metrics accepts it: {lint.stdout}{lint.stderr}")
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
    expect(sample(text, "nexus_stage_calls_total", stage="bad/b") >= BAD,
           "stage calls, by stage")
    expect((sample(text, "nexus_log_events_written_total") or 0) > 0
           and (sample(text, "nexus_log_write_batches_total") or 0) > 0, "the log's writes")
    expect((sample(text, "process_resident_memory_bytes") or 0) > 1 << 20
           and sample(text, "process_cpu_seconds_total") is not None, "the process's memory and CPU")
    expect(not any(f"ok-{i}" in text for i in range(OK)), "no correlation ID in any label")

    # A real Prometheus scrapes it, and PromQL counts the sagas.
    prom_port = free_port()
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nexus\n"
                f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")
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
    prom.terminate()
    communicate(prom, "prometheus stops", 30)
    serve.terminate()
    communicate(serve, "serve stops on SIGTERM", 60)
finally:
    stop_all(procs)
finish(work)
