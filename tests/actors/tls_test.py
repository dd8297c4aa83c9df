#!/usr/bin/env python3
"""Mutual TLS between cluster nodes (caf::openssl).

Certificates are made with the openssl tool for the test: a cluster CA, a
coordinator and a worker signed by it, and a rogue certificate signed by
another CA. A coordinator with cluster.tls takes the worker; a node with the
rogue certificate and a node with no TLS at all cannot join (their TLS
handshake fails) and the coordinator runs on. Waits are conditions with
deadlines.

Usage: tls_test.py NEXUS SOURCE_DIR
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
from checks import expect, finish, stop_all, wait_for  # noqa: E402
if shutil.which("openssl") is None:
    print("openssl is not installed (scripts/setup installs it): skipped")
    sys.exit(77)



work = tempfile.mkdtemp(prefix="nexus-tls-")


def sh(*args):
    subprocess.run(args, cwd=work, check=True, capture_output=True)


def self_signed(name):
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
       "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}")


def signed(name, ca):
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
       f"{name}.csr", "-subj", f"/CN={name}")
    sh("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
       "-CAcreateserial", "-out", f"{name}.pem", "-days", "2")


self_signed("ca")
self_signed("rogue-ca")
signed("coordinator", "ca")
signed("worker", "ca")
signed("rogue", "rogue-ca")
f = lambda name: os.path.join(work, name)  # noqa: E731

data = f("data")
steps = [{"name": "reserve", "action": {"kind": "simulate", "latency_ms": 1},
          "compensate": {"kind": "simulate"}},
         {"name": "ship", "action": {"kind": "simulate"}}]
spec = {"runtime": {"data_dir": data, "durability": "async"},
        "cluster": {"name": "tls-test", "token": "tok",
                    "tls": {"certificate": f("coordinator.pem"), "key": f("coordinator.key"),
                            "ca": f("ca.pem")}},
        "sagas": {"order": {"steps": steps}}}
with open(f("wf.json"), "w") as out:
    json.dump(spec, out)
plain = dict(spec, cluster={"name": "tls-test", "token": "tok"})
with open(f("plain.json"), "w") as out:
    json.dump(plain, out)

procs = []
try:
    coordinator = subprocess.Popen([nexus, "run", f("wf.json"), "--generate", "300", "--saga", "order",
                                    "--json", "--no-progress", "--listen", "127.0.0.1:0",
                                    "--expect-workers", "1", "--local-stages", "off"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(coordinator)
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", coordinator.stderr.readline().decode())
    expect(m is not None, "the coordinator listens")
    join = f"127.0.0.1:{m.group(1)}"
    rogue = subprocess.run([nexus, "worker", f("wf.json"), "--join", join, "--tls-certificate",
                            f("rogue.pem"), "--tls-key", f("rogue.key"), "--reconnect-for", "3"],
                           capture_output=True, timeout=60)
    # Refused in the TLS handshake; on a loaded machine the refused handshake can outlast the
    # attempt, which then says connection_timeout (seen once in CI). Either way it never joins:
    # the run below is served by the good worker alone.
    expect(rogue.returncode == 1
           and (b"handshake" in rogue.stderr or b"connection_timeout" in rogue.stderr),
           f"a node whose certificate another CA signed cannot join: {rogue.stderr[-200:]!r}")
    bare = subprocess.run([nexus, "worker", f("plain.json"), "--join", join, "--reconnect-for", "3"],
                          capture_output=True, timeout=60)
    expect(bare.returncode == 1, f"a node without TLS cannot join: {bare.stderr[-200:]!r}")
    expect(coordinator.poll() is None, "the coordinator runs on")
    good = subprocess.run([nexus, "worker", f("wf.json"), "--join", join, "--tls-certificate",
                           f("worker.pem"), "--tls-key", f("worker.key")],
                          capture_output=True, timeout=120)
    expect(good.returncode == 0, f"a node with a certificate from the cluster's CA joins and "
           f"serves the run: {good.stderr[-200:]!r}")
    out, err = coordinator.communicate(timeout=120)
    summary = json.loads(out)
    expect(coordinator.returncode == 0 and summary["completed"] + summary["compensated"] == 300,
           f"the run over TLS ends: {summary}")
finally:
    stop_all(procs)

finish(work)
