"""Shared by the Python tests that drive the nexus binary: checks that count
and print, waits that are conditions with deadlines, and the ending.

    from checks import expect, wait_for, finish
"""
import json
import random
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request

failures = []


def expect(cond, what):
    """Records one check, printing `ok:` or `FAIL:` with what it was."""
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)
    return cond


def wait_for(what, cond, seconds=60):
    """Polls `cond` until it holds; a check that fails when `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    expect(False, f"{what} within {seconds} s")
    return False


def http_call(port, method, path, body=None, headers=None, timeout=70):
    """One request to 127.0.0.1:`port`, `body` sent as JSON: (status,
    headers, body text), for any status."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def free_port():
    """A free port on 127.0.0.1 below Linux's ephemeral range (32768 on),
    for a test that listens on it twice: a port 0 picked the first time
    could meanwhile be handed to some outgoing connection."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 30000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port between 20000 and 30000")


def describe_threads(pid):
    """Prints what each thread of `pid` waits on: its name, state and kernel
    wait channel, and (with gdb installed) every thread's stack. For a
    process that did not stop when it should have."""
    import os
    import subprocess
    print(f"threads of {pid}:")
    try:
        for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
            base = f"/proc/{pid}/task/{tid}"
            def read(name):
                try:
                    with open(f"{base}/{name}") as f:
                        return f.read().strip()
                except OSError:
                    return "?"
            state = read("stat").rsplit(")", 1)[-1].split()[0:1]
            print(f"  {tid} {read('comm')} state={''.join(state)} wchan={read('wchan')}")
    except OSError as e:
        print(f"  cannot read /proc/{pid}: {e}")
    if shutil.which("gdb"):
        out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt 25"],
                             capture_output=True, text=True, timeout=120)
        print(out.stdout[-20000:])


def communicate(proc, what, timeout):
    """proc.communicate() with a deadline; past it, a failed check, the
    threads described, and the process killed. Returns (stdout, stderr)."""
    import subprocess
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        expect(False, f"{what} within {timeout} s")
        describe_threads(proc.pid)
        proc.kill()
        return proc.communicate()


def stop_all(procs):
    """Kills what is still running of `procs` (subprocess.Popen objects)."""
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def finish(work):
    """Removes `work` when every check passed (kept for a look otherwise),
    prints the tally and exits with the test's status."""
    if not failures:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{1 if not failures else 0} passed, {1 if failures else 0} failed")
    sys.exit(1 if failures else 0)
