#!/usr/bin/env python3
"""W3C Trace Context through the real binary.

A `nexus serve` takes an HTTP start with `traceparent` and `tracestate`
(the recommendation's own example): its `http` step's request carries a
traceparent of the same trace with a span of its own, and the tracestate;
its `exec` step gets TRACEPARENT and TRACESTATE; then it waits for a
signal, the server is SIGKILLed and restarted, and the step after the
signal still carries the same trace. GET /v1/sagas/{cid} and `nexus
events` show the trace ID; every line of the JSON log about the saga
carries it, and each line about an attempt that attempt's span_id, the
one its call sent. A start without a traceparent (or with a malformed
one) gets a trace of its own. An input line's `traceparent` field starts
a saga in that trace (`nexus run --input`), and a malformed one is refused
with exit 2, naming the file, the line and the field.

With `tracing.otlp_endpoint`, the spans go over OTLP/HTTP (JSON) to a
receiver the test runs, which decodes them: the saga's span (its parent the
caller's span) and one per attempt (their parent the saga's span, their
span IDs those the calls sent), named after their steps. With the
collector absent, a run of many sagas still ends, and says what it could
not export, and nexus_trace_spans_dropped_total counts it.

Waits are conditions with deadlines.

Usage: tracing_test.py NEXUS SOURCE_DIR
"""
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import communicate, expect, finish, http_call, stop_all, wait_for  # noqa: E402

work = tempfile.mkdtemp(prefix="nexus-tracing-")
data = os.path.join(work, "data")
step = os.path.join(src, "tests", "programs", "step.sh")
procs = []

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
PARENT = f"00-{TRACE}-{CALLER_SPAN}-01"
STATE = "congo=t61rcWkgMzE"
TP = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def serve(port_file_name):
    proc = subprocess.Popen([nexus, "serve", wf, "--http", "127.0.0.1:0", "--grace-seconds", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(proc)
    line = proc.stderr.readline().decode()
    m = re.search(r"http listening on 127\.0\.0\.1:(\d+)", line)
    expect(m is not None, f"serve says where it listens: {line!r}")
    return proc, int(m.group(1)) if m else 0


def get(port, path):
    status, _, text = http_call(port, "GET", path)
    return status, json.loads(text or "null")


class Receiver(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP traces endpoint: keeps every span it is sent."""
    spans, lock = [], threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = self.path == "/v1/traces" and self.headers.get("Content-Type") == "application/json"
        try:
            request = json.loads(body)
            got = [sp for rs in request["resourceSpans"]
                   if {"key": "service.name", "value": {"stringValue": "nexus"}}
                   in rs["resource"]["attributes"]
                   for ss in rs["scopeSpans"] for sp in ss["spans"]]
        except (ValueError, KeyError, TypeError):
            ok, got = False, []
        with Receiver.lock:
            Receiver.spans.extend(got)
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def spans_of(trace):
    with Receiver.lock:
        return [sp for sp in Receiver.spans if sp.get("traceId") == trace]


def parts(traceparent):
    m = TP.match(traceparent or "")
    return m.groups() if m else (None, None, None)


try:
    server = subprocess.Popen(["python3", os.path.join(src, "tests", "programs", "http_server.py")],
                              stdout=subprocess.PIPE)
    procs.append(server)
    echo = f"http://127.0.0.1:{int(server.stdout.readline().split()[0])}/echo"

    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}/v1/traces"

    wf = os.path.join(work, "wf.json")
    with open(wf, "w") as f:
        json.dump({"runtime": {"data_dir": data}, "logging": {"level": "debug"},
                   "tracing": {"otlp_endpoint": endpoint, "flush_ms": 100}, "sagas": {
            "traced": {"steps": [
                {"name": "call", "action": {"kind": "http", "url": echo}},
                {"name": "run", "action": {"kind": "exec", "argv": [step, "trace"]}},
                {"name": "hold", "action": {"kind": "wait", "signal": "go", "timeout_ms": 600000}},
                {"name": "after", "action": {"kind": "http", "url": echo}}]},
            "plain": {"steps": [{"name": "run", "action": {"kind": "exec", "argv": [step, "trace"]}}]}}},
            f)

    proc, port = serve("first")
    status, headers, text = http_call(port, "POST", "/v1/sagas/traced", {"correlation_id": "t-1"},
                                      headers={"traceparent": PARENT, "tracestate": STATE})
    expect(status == 201, f"the traced start is durable: {status} {text}")

    def waiting():
        s, b = get(port, "/v1/sagas/t-1")
        return s == 200 and any(e["type"] == "step_waiting" for e in b.get("events", []))
    wait_for("the saga waits for its signal", waiting, 60)
    _, before = get(port, "/v1/sagas/t-1")
    # Sent off the hot path, within the flush time: before the kill.
    wait_for("the collector has the first two attempts' spans",
             lambda: {"call", "run"} <= {sp["name"] for sp in spans_of(TRACE)}, 30)

    def logged_wait():  # the log reaches its file within a second: before the kill
        try:
            with open(os.path.join(data, "logs", "nexus.jsonl")) as f:
                return any('"waiting for signal go' in l and '"t-1"' in l for l in f)
        except OSError:
            return False
    wait_for("the log file has the saga's wait", logged_wait, 30)

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc, port = serve("second")
    status, _, text = http_call(port, "POST", "/v1/sagas/t-1/signals/go", {"data": {"ok": True}})
    expect(status in (200, 202), f"the signal is taken after the restart: {status} {text}")
    _, saga = get(port, "/v1/sagas/t-1?wait=30")
    expect(saga.get("status") == "completed", f"the saga completed: {saga.get('status')}")

    expect(saga.get("trace_id") == TRACE and before.get("trace_id") == TRACE,
           f"GET /v1/sagas/t-1 shows the caller's trace, before and after the restart: {saga.get('trace_id')}")
    started = next((e for e in saga.get("events", []) if e["type"] == "saga_started"), {})
    expect(started.get("trace_id") == TRACE and started.get("parent_span_id") == CALLER_SPAN
           and re.fullmatch("[0-9a-f]{16}", started.get("span_id", "")) is not None
           and started.get("span_id") != CALLER_SPAN and started.get("tracestate") == STATE,
           f"saga_started records the trace, the saga's span and the caller's: {started}")

    out = saga.get("outputs", {})
    call_trace, call_span, call_flags = parts((out.get("call") or {}).get("traceparent"))
    run_trace, run_span, _ = parts((out.get("run") or {}).get("traceparent"))
    after_trace, after_span, _ = parts((out.get("after") or {}).get("traceparent"))
    expect(call_trace == TRACE and call_flags == "01" and call_span not in (None, CALLER_SPAN)
           and call_span != started.get("span_id"),
           f"the http step sent a traceparent of the trace with a span of its own: {out.get('call')}")
    expect((out.get("call") or {}).get("tracestate") == STATE, "and the caller's tracestate")
    expect(run_trace == TRACE and run_span not in (None, call_span)
           and (out.get("run") or {}).get("tracestate") == STATE,
           f"the exec step got TRACEPARENT and TRACESTATE: {out.get('run')}")
    expect(after_trace == TRACE and after_span not in (None, call_span, run_span),
           f"after the SIGKILL and restart, the next step is still in the trace: {out.get('after')}")

    ev = subprocess.run([nexus, "events", "t-1", "--data-dir", data], capture_output=True,
                        text=True, timeout=60)
    expect(ev.returncode == 0 and f"trace {TRACE} from span {CALLER_SPAN}" in ev.stdout,
           f"nexus events shows the trace: {ev.stdout[:400]!r}")

    # A start with no traceparent, and one with a malformed one: traces of their own.
    for cid, extra in (("p-1", {}), ("p-2", {"traceparent": "00-bogus"})):
        status, _, _ = http_call(port, "POST", "/v1/sagas/plain", {"correlation_id": cid},
                                 headers=extra)
        _, p = get(port, f"/v1/sagas/{cid}?wait=30")
        own, span, _ = parts((p.get("outputs", {}).get("run") or {}).get("traceparent"))
        expect(status == 201 and p.get("status") == "completed"
               and re.fullmatch("[0-9a-f]{32}", p.get("trace_id", "")) is not None
               and p.get("trace_id") != TRACE and own == p.get("trace_id") and span is not None,
               f"{cid}: a trace of its own, which its step carried: {p.get('trace_id')} {own}")
    def exported():
        m = re.search(r"^nexus_trace_spans_exported_total (\S+)$", http_call(port, "GET", "/metrics")[2],
                      re.M)
        return float(m.group(1)) if m else 0
    wait_for("nexus_trace_spans_exported_total counts what this server sent",
             lambda: exported() >= 2, 30)
    proc.terminate()
    communicate(proc, "serve stops", 60)

    # The spans the collector got: the saga's, and its attempts'.
    wait_for("the collector has the saga's span",
             lambda: any(sp["name"] == "traced" for sp in spans_of(TRACE)), 30)
    got = spans_of(TRACE)
    saga_span = next((sp for sp in got if sp["name"] == "traced"), {})
    expect(saga_span.get("spanId") == started.get("span_id")
           and saga_span.get("parentSpanId") == CALLER_SPAN
           and saga_span.get("status", {}).get("code") == 1
           and int(saga_span.get("endTimeUnixNano", 0)) > int(saga_span.get("startTimeUnixNano", 0)) > 0,
           f"the saga's span: its own ID, the caller's as parent, OK, timed: {saga_span}")
    attempts = {sp["name"]: sp for sp in got if sp["name"] != "traced"}
    expect(set(attempts) == {"call", "run", "after"},
           f"one span per attempt, named after its step: {sorted(attempts)}")
    expect(all(sp.get("parentSpanId") == started.get("span_id") for sp in attempts.values()),
           "each attempt's parent is the saga's span")
    expect(attempts.get("call", {}).get("spanId") == call_span
           and attempts.get("run", {}).get("spanId") == run_span
           and attempts.get("after", {}).get("spanId") == after_span,
           "each attempt's span is the one its call sent on")
    attrs = {a["key"]: a["value"] for a in attempts.get("call", {}).get("attributes", [])}
    expect(attrs.get("nexus.correlation_id") == {"stringValue": "t-1"}
           and attrs.get("nexus.attempt") == {"intValue": "1"}
           and attrs.get("nexus.outcome") == {"stringValue": "succeeded"},
           f"an attempt's span says its saga, attempt and outcome: {attrs}")
    expect(len({sp["spanId"] for sp in got}) == len(got), "no span was sent twice")

    # The log: every line about t-1 carries the trace; attempt lines their span.
    lines = []
    with open(os.path.join(data, "logs", "nexus.jsonl")) as f:
        for raw in f:
            try:
                lines.append(json.loads(raw))
            except ValueError:
                pass
    about = [l for l in lines if l.get("correlation_id") == "t-1"]
    expect(len(about) >= 10 and all(l.get("trace_id") == TRACE for l in about),
           f"each of the {len(about)} log lines about t-1 carries its trace_id: "
           f"{[l for l in about if l.get('trace_id') != TRACE][:2]}")
    attempt_lines = [l for l in about if l.get("attempt")]
    expect(all(re.fullmatch("[0-9a-f]{16}", l.get("span_id", "")) for l in attempt_lines),
           f"each line about an attempt carries a span_id ({len(attempt_lines)} lines)")
    call_lines = [l for l in attempt_lines if l.get("step") == "call"]
    expect(call_lines != [] and all(l["span_id"] == call_span for l in call_lines),
           f"the call attempt's lines name the span its request carried: {call_lines[:1]}")
    stderr_lines = [l for l in about if l.get("msg", "").startswith("stderr of")]
    expect(len(stderr_lines) == 1 and stderr_lines[0].get("span_id") == run_span,
           f"the exec step's stderr line names its attempt's span: {stderr_lines}")

    # An input line's traceparent (nexus run --input), and a malformed one.
    other = "0af7651916cd43dd8448eb211c80319c"
    lines_file = os.path.join(work, "in.jsonl")
    with open(lines_file, "w") as f:
        f.write(json.dumps({"saga": "plain", "correlation_id": "in-1",
                            "traceparent": f"00-{other}-b7ad6b7169203331-01"}) + "\n")
    run = subprocess.run([nexus, "run", wf, "--input", lines_file, "--data-dir",
                          os.path.join(work, "run"), "--no-progress"],
                         capture_output=True, text=True, timeout=120)
    ev = subprocess.run([nexus, "events", "in-1", "--data-dir", os.path.join(work, "run"), "--json"],
                        capture_output=True, text=True, timeout=60)
    first = json.loads(ev.stdout.splitlines()[0]) if ev.stdout else {}
    expect(run.returncode == 0 and first.get("trace_id") == other
           and first.get("parent_span_id") == "b7ad6b7169203331",
           f"an input line's traceparent starts the saga in that trace: {first}")
    with open(lines_file, "w") as f:
        f.write(json.dumps({"saga": "plain", "correlation_id": "in-2"}) + "\n")
        f.write(json.dumps({"saga": "plain", "correlation_id": "in-3", "traceparent": "01-x"}) + "\n")
    bad = subprocess.run([nexus, "run", wf, "--input", lines_file, "--data-dir",
                          os.path.join(work, "bad"), "--no-progress"],
                         capture_output=True, text=True, timeout=120)
    expect(bad.returncode == 2
           and "in.jsonl:2: traceparent: \"01-x\" is not a W3C traceparent" in bad.stderr,
           f"a malformed traceparent in an input line: exit 2, naming it: {bad.returncode} {bad.stderr!r}")

    # No collector at all: the run ends as ever, and says what it dropped.
    collector.shutdown()
    collector.server_close()
    absent = os.path.join(work, "absent.json")
    with open(absent, "w") as f:
        json.dump({"runtime": {"data_dir": os.path.join(work, "absent")},
                   "tracing": {"otlp_endpoint": endpoint, "flush_ms": 50, "queue_size": 64,
                               "timeout_ms": 200},
                   "sagas": {"quick": {"steps": [{"name": "a", "action": {"kind": "simulate"}},
                                                 {"name": "b", "action": {"kind": "simulate"}}]}}}, f)
    quick = subprocess.run([nexus, "run", absent, "--generate", "2000", "--saga", "quick",
                            "--no-progress", "--json"], capture_output=True, text=True, timeout=120)
    summary = json.loads(quick.stdout or "{}")
    with open(os.path.join(work, "absent", "logs", "nexus.jsonl")) as f:
        said = [json.loads(l) for l in f if "spans not exported" in l]
    expect(quick.returncode == 0 and summary.get("completed") == 2000 and said,
           f"with the collector gone, every saga still ends and the log says spans were not "
           f"exported: {quick.returncode} {summary} {said[:1]}")

    # And the metric counts them: a nexus serve with the collector gone.
    proc = subprocess.Popen([nexus, "serve", absent, "--http", "127.0.0.1:0", "--grace-seconds", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(proc)
    m = re.search(r"http listening on 127\.0\.0\.1:(\d+)", proc.stderr.readline().decode())
    port = int(m.group(1)) if m else 0
    http_call(port, "POST", "/v1/sagas/quick", {"correlation_id": "q-1"})
    _, q = get(port, "/v1/sagas/q-1?wait=30")

    def dropped():
        text = http_call(port, "GET", "/metrics")[2]
        m = re.search(r"^nexus_trace_spans_dropped_total (\S+)$", text, re.M)
        return float(m.group(1)) if m else 0
    wait_for("nexus_trace_spans_dropped_total counts the saga's three spans",
             lambda: dropped() >= 3, 30)
    expect(q.get("status") == "completed", "and the saga completed")
    proc.terminate()
    communicate(proc, "serve stops", 60)
finally:
    stop_all(procs)
finish(work)
