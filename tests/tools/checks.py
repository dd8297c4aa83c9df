"""Shared by the Python tests that drive the nexus binary: checks that count
and print, waits that are conditions with deadlines, and the ending.

    from checks import expect, wait_for, finish
"""
import random
import shutil
import socket
import sys
import time

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
