#!/usr/bin/env python3
"""The web console in a real browser: a `nexus serve` with an HTTP token runs
sagas that complete, sagas that fail and compensate, sagas that open a
breaker and one that waits; then tests/console/console.mjs drives Debian's
headless Chromium through playwright-core: it gives the console the token,
filters the sagas to compensated, opens one and reads its timeline (the
failed step, then the compensations in reverse order), cancels the waiting
saga with the button and sees it end cancelled, reads a breaker's history
and watches a saga end in the live view, saving screenshots.

Also over plain HTTP: the console's files are served with a
Content-Security-Policy that loads nothing from elsewhere, and the API
behind them still needs the token.

Usage: console_test.py NEXUS SOURCE_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import communicate, expect, finish, http_call, stop_all  # noqa: E402

chromium = shutil.which("chromium")
modules = os.path.join(src, "tests", "console", "node_modules", "playwright-core")
if chromium is None or shutil.which("node") is None or not os.path.isdir(modules):
    print("skipped: no chromium, node or tests/console/node_modules (scripts/setup installs them)")
    sys.exit(77)

work = tempfile.mkdtemp(prefix="nexus-console-")
shots = os.environ.get("NEXUS_CONSOLE_SHOTS", os.path.join(work, "shots"))
os.makedirs(shots, exist_ok=True)
TOKEN = "console-test-token"
procs = []
simulate = {"kind": "simulate"}
wf = os.path.join(work, "wf.json")
with open(wf, "w") as f:
    json.dump({"runtime": {"data_dir": os.path.join(work, "data")}, "http": {"token": TOKEN},
               "breakers": {"ledger": {"window": {"type": "count", "size": 2}, "minimum_calls": 2,
                                       "open_ms": 60000}},
               "sagas": {
                   "order": {"steps": [{"name": "a", "action": simulate, "compensate": simulate},
                                       {"name": "b", "action": simulate}]},
                   "doomed": {"steps": [
                       {"name": "a", "action": simulate, "compensate": simulate},
                       {"name": "b", "action": simulate, "compensate": simulate},
                       {"name": "c", "action": {"kind": "simulate", "fail_rate": 1.0,
                                                "fail_kind": "permanent"}}]},
                   "flaky": {"steps": [{"name": "f", "resource": "ledger",
                                        "action": {"kind": "simulate", "fail_rate": 1.0,
                                                   "fail_kind": "permanent"}}]},
                   "hold": {"steps": [{"name": "w", "action": {"kind": "wait", "signal": "never",
                                                               "timeout_ms": 600000}}]}}}, f)

auth = {"Authorization": f"Bearer {TOKEN}"}
try:
    serve = subprocess.Popen([nexus, "serve", wf, "--http", "127.0.0.1:0", "--grace-seconds", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(serve)
    m = re.search(r"http listening on 127\.0\.0\.1:(\d+)", serve.stderr.readline().decode())
    expect(m is not None, "serve says where it listens")
    port = int(m.group(1)) if m else 0

    status, headers, page = http_call(port, "GET", "/")
    csp = headers.get("Content-Security-Policy", "")
    expect(status == 200 and headers.get("Content-Type", "").startswith("text/html")
           and '<script src="/console.js">' in page,
           f"GET / serves the console without a token: {status}")
    expect("default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp,
           f"with a policy that loads nothing from elsewhere: {csp}")
    for path, kind in (("/console.js", "text/javascript"), ("/console.css", "text/css")):
        status, headers, _ = http_call(port, "GET", path)
        expect(status == 200 and headers.get("Content-Type", "").startswith(kind), f"GET {path}")
    expect(http_call(port, "GET", "/v1/sagas")[0] == 401, "the API behind it still needs the token")

    starts = [("order", f"order-{i}") for i in range(3)] + \
             [("doomed", f"doomed-{i}") for i in range(3)] + \
             [("flaky", f"flaky-{i}") for i in range(2)] + [("hold", "hold-1")]
    for saga, cid in starts:
        status, _, text = http_call(port, "POST", f"/v1/sagas/{saga}", {"correlation_id": cid},
                                    headers=auth)
        expect(status == 201, f"started {cid}: {status} {text[:200]}")
    for saga, cid in starts[:-1]:
        _, _, text = http_call(port, "GET", f"/v1/sagas/{cid}?wait=30", headers=auth)
        expect(json.loads(text).get("status") in ("completed", "compensated"), f"{cid} ended")
    status, _, text = http_call(port, "GET", "/v1/breakers?resource=ledger", headers=auth)
    ledger = json.loads(text).get("breakers", [{}])[0]
    expect(ledger.get("state") == "open"
           and [e["type"] for e in ledger.get("history", [])] == ["breaker_opened"],
           f"the ledger breaker opened, its history says so: {text[:300]}")

    drive = subprocess.run(["node", os.path.join(src, "tests", "console", "console.mjs"),
                            f"http://127.0.0.1:{port}", TOKEN, shots, chromium],
                           capture_output=True, text=True, timeout=240)
    print(drive.stdout, end="")
    expect(drive.returncode == 0, f"the browser session passed: {drive.stderr[-1500:]}")
    for shot in ("sagas", "saga", "breakers", "live"):
        path = os.path.join(shots, shot + ".png")
        expect(os.path.exists(path) and os.path.getsize(path) > 10000, f"screenshot {shot}.png saved")

    serve.terminate()
    communicate(serve, "serve stops", 60)
finally:
    stop_all(procs)
finish(work)
