"""Shared by the Python tests that drive the nexus binary: checks that count
and print, waits that are conditions with deadlines, and the ending.

    from checks import expect, wait_for, finish
"""
import shutil
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
