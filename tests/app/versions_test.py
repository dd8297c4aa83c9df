#!/usr/bin/env python3
"""Workflow versions, through the real binary: every saga finishes on the
definition it started with, and moves to a new one only when asked.

- A run is killed (SIGKILL) mid-way, the workflow file edited (a compensation
  removed while it runs, a step inserted behind a running one, a running step
  renamed, a parallel group reordered, an exec argv changed), the run
  restarted: each in-flight saga does exactly what its first file said (a
  ledger its exec steps write proves it), new sagas follow the new file.
- `nexus migrate`, `validate --against` and `retry [--migrate]`: compatible
  sagas move (a definition_changed event), incompatible ones are named with
  the step and the change, a dry run writes nothing, and a compensation fixed
  in the file runs once the saga is moved and retried.
- A saga whose definition is missing from the log (removed by hand) is named
  and the run exits 1; a cancel of it is stored, `nexus migrate` moves it on
  and a run ends it.
- A log written by the previous release (event schema 1, no definitions)
  resumes on the workflow's definition.

Blocking steps wait for a gate file, which the test creates: no timing.

Usage: versions_test.py NEXUS SOURCE_DIR
"""
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import communicate, expect, finish, stop_all, wait_for  # noqa: E402

work = tempfile.mkdtemp(prefix="nexus-versions-")
ledger = os.path.join(work, "ledger")
gate = os.path.join(work, "gate")
env = dict(os.environ, LEDGER=ledger, GATE=gate)
procs = []


def act(tag, block=False, fail=False):
    """An exec action that writes `CID TAG` to the ledger, then waits for
    the gate (block) and fails for good (fail) or prints {}."""
    script = f'echo "$NEXUS_CORRELATION_ID {tag}" >> "$LEDGER"; '
    if block:
        script += 'while [ ! -e "$GATE" ]; do sleep 0.02; done; '
    script += "exit 1" if fail else "echo '{}'"
    return {"kind": "exec", "argv": ["sh", "-c", script]}


def step(name, tag=None, block=False, fail=False, undo=None):
    s = {"name": name, "action": act(tag or name, block, fail)}
    if undo is not None:
        s["compensate"] = undo
    return s


def write(name, sagas, data):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        json.dump({"runtime": {"data_dir": data}, "sagas": sagas}, f, indent=1)
    return path


def lines(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return path


def entries(cid):
    """What saga `cid`'s steps wrote to the ledger, in order."""
    if not os.path.exists(ledger):
        return []
    with open(ledger) as f:
        return [l.split()[1] for l in f if l.split()[0] == cid]


def nx(*args, timeout=120):
    return subprocess.run([nexus, *args], capture_output=True, text=True, env=env, timeout=timeout)


def events(data, cid):
    out = nx("events", cid, "--json", "--data-dir", data)
    return [json.loads(l) for l in out.stdout.splitlines()]


def status(data, cid):
    for l in nx("sagas", "--json", "--data-dir", data).stdout.splitlines():
        row = json.loads(l)
        if row["cid"] == cid:
            return row["status"]
    return None


def start_run(workflow, inputs):
    p = subprocess.Popen([nexus, "run", workflow, "--input", inputs, "--no-progress"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                         start_new_session=True)
    procs.append(p)
    return p


def kill_run(p):
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=60)


def hash_of(workflow, data, saga, cid):
    """The definition saga `cid` started on, from its saga_started event."""
    return events(data, cid)[0].get("definition", "")


try:
    # -- 1. kill, edit, restart ------------------------------------------------
    d1 = os.path.join(work, "d1")
    v1 = write("v1.json", {
        "comp": {"steps": [step("a", undo=act("a-undo", block=True)), step("b", fail=True)]},
        "ins": {"steps": [step("a"), step("b", block=True)]},
        "ren": {"steps": [step("a"), step("b", block=True)]},
        "par": {"steps": [{"parallel": [step("p", block=True), step("q")]}, step("r")]},
        "argv": {"steps": [step("a", "a-v1", block=True)]},
    }, d1)
    first = start_run(v1, lines(os.path.join(work, "in1.jsonl"), [
        {"saga": s, "correlation_id": s + "-1"} for s in ("comp", "ins", "ren", "par", "argv")]))
    wait_for("every saga is at its blocking step",
             lambda: entries("comp-1") == ["a", "b", "a-undo"] and entries("ins-1")[-1:] == ["b"]
             and entries("ren-1")[-1:] == ["b"] and "p" in entries("par-1")
             and "q" in entries("par-1") and entries("argv-1") == ["a-v1"], 60)
    kill_run(first)
    v1_hash = {cid: hash_of(v1, d1, cid.split("-")[0], cid)
               for cid in ("comp-1", "ins-1", "ren-1", "par-1", "argv-1")}
    expect(all(len(h) == 64 for h in v1_hash.values()),
           f"each saga_started names its definition: {v1_hash}")
    v2 = write("v2.json", {
        "comp": {"steps": [step("a"), step("b")]},                         # compensation removed
        "ins": {"steps": [step("a"), step("x"), step("b", block=True)]},   # x inserted
        "ren": {"steps": [step("a"), step("c", block=True)]},              # b renamed c
        "par": {"steps": [{"parallel": [step("q"), step("p", block=True)]}, step("r", "r2")]},
        "argv": {"steps": [step("a", "a-v2", block=True)]},                # argv changed
    }, d1)
    open(gate, "w").close()
    second = start_run(v2, lines(os.path.join(work, "in2.jsonl"), [
        {"saga": s, "correlation_id": s + "-2"} for s in ("comp", "ins", "ren", "par", "argv")]))
    out, err = communicate(second, "the restarted run ends", 120)
    expect(second.returncode == 0, f"the restarted run exits 0: {err[-400:]!r}")
    expect(entries("comp-1") == ["a", "b", "a-undo", "a-undo"]
           and status(d1, "comp-1") == "compensated",
           f"a compensation removed while it ran still runs, and nothing else: {entries('comp-1')}")
    expect(entries("ins-1") == ["a", "b", "b"] and status(d1, "ins-1") == "completed",
           f"a step inserted behind a running one is not run: {entries('ins-1')}")
    expect(entries("ren-1") == ["a", "b", "b"] and status(d1, "ren-1") == "completed",
           f"a running step renamed runs under its first name: {entries('ren-1')}")
    par1 = entries("par-1")
    expect(par1.count("p") == 2 and par1[-1] == "r" and "r2" not in par1
           and status(d1, "par-1") == "completed",
           f"a reordered parallel group and a changed later step keep the first file's: {par1}")
    expect(entries("argv-1") == ["a-v1", "a-v1"] and status(d1, "argv-1") == "completed",
           f"a changed argv does not reach a saga begun before: {entries('argv-1')}")
    expect(entries("comp-2") == ["a", "b"] and status(d1, "comp-2") == "completed",
           f"a new saga runs the new file's steps: {entries('comp-2')}")
    expect(entries("ins-2") == ["a", "x", "b"], f"new sagas run the inserted step: {entries('ins-2')}")
    expect(entries("ren-2") == ["a", "c"], f"new sagas run the renamed step: {entries('ren-2')}")
    expect(entries("par-2")[-1:] == ["r2"], f"new sagas run the changed step: {entries('par-2')}")
    expect(entries("argv-2") == ["a-v2"], f"new sagas run the new argv: {entries('argv-2')}")
    v2_hash = hash_of(v2, d1, "ins", "ins-2")
    expect(v2_hash != v1_hash["ins-1"] and len(v2_hash) == 64,
           "a changed saga is a new definition")
    listed = [json.loads(l) for l in nx("definitions", "--json", "--data-dir", d1).stdout.splitlines()]
    ins = {d["definition"]: d for d in listed if d["saga"] == "ins"}
    expect(set(ins) == {v1_hash["ins-1"], v2_hash}
           and ins[v2_hash]["ended"] == 1 and ins[v1_hash["ins-1"]]["ended"] == 1
           and ins[v2_hash]["body"]["steps"][1]["name"] == "x",
           f"nexus definitions lists both of ins's, one saga ended on each: {ins}")
    table = nx("definitions", "--data-dir", d1).stdout
    expect(v2_hash[:12] in table and "FIRST USED" in table, "the table shows short hashes")
    sagas_table = nx("sagas", "--data-dir", d1).stdout
    expect(v1_hash["ins-1"][:12] in sagas_table and v2_hash[:12] in sagas_table,
           "nexus sagas shows each saga's definition")
    expect(v1_hash["ins-1"][:12] in nx("events", "ins-1", "--data-dir", d1).stdout,
           "nexus events names the saga's definition")
    stats = json.loads(nx("stats", "--json", "--data-dir", d1).stdout)
    on = {(d["saga"], d["definition"]): d["sagas"] for d in stats["definitions"]}
    expect(on.get(("ins", v1_hash["ins-1"])) == 1 and on.get(("ins", v2_hash)) == 1,
           f"nexus stats counts the sagas on each definition: {on}")
    expect(v2_hash[:12] in nx("stats", "--data-dir", d1).stdout, "and shows their short hashes")

    # -- 2. migrate, validate --against, retry -----------------------------------
    d2 = os.path.join(work, "d2")
    os.remove(gate)
    m1 = write("m1.json", {
        "pay": {"steps": [step("a", undo=act("refund-bad", fail=True)), step("b", fail=True)]},
        "hold": {"steps": [step("a"), step("b", block=True)]},
    }, d2)
    run = start_run(m1, lines(os.path.join(work, "m.jsonl"), [
        {"saga": "pay", "correlation_id": "pay-1"}, {"saga": "pay", "correlation_id": "pay-2"},
        {"saga": "hold", "correlation_id": "hold-1"}, {"saga": "hold", "correlation_id": "hold-2"}]))
    wait_for("the pays have failed and the holds wait at b",
             lambda: status(d2, "pay-1") == "failed" and status(d2, "pay-2") == "failed"
             and entries("hold-1") == ["a", "b"] and entries("hold-2") == ["a", "b"], 60)
    kill_run(run)
    fixed = {"pay": {"steps": [step("a", undo=act("refund-good")), step("b", fail=True)]},
             "hold": {"steps": [step("a"), step("b", block=True), step("x")]}}
    m2 = write("m2.json", fixed, d2)
    m3 = write("m3.json", dict(fixed, hold={"steps": [step("a"), step("x")]}), d2)
    m4 = write("m4.json", dict(fixed, pay={"steps": [step("a"), step("b", fail=True)]}), d2)

    check = nx("validate", m3, "--against", d2)
    expect(check.returncode == 0 and "2 could not" in check.stdout
           and "hold-1: step b has started, " + m3 + " removes it" in check.stdout
           and "2 could move" in check.stdout,
           f"validate --against counts the movable sagas and names why not: {check.stdout!r}")
    before = nx("definitions", "--json", "--data-dir", d2).stdout
    dry = nx("migrate", "--workflow", m3, "--dry-run", "--data-dir", d2)
    expect(dry.returncode == 1 and "hold-2: step b has started, " + m3 + " removes it" in dry.stdout
           and "pay-1: would move from" in dry.stdout,
           f"a dry run names what would move and what could not, exit 1: {dry.stdout!r}")
    expect(nx("definitions", "--json", "--data-dir", d2).stdout == before
           and not any(e["type"] == "definition_changed" for e in events(d2, "pay-1")),
           "a dry run writes nothing")
    pay_from = hash_of(m1, d2, "pay", "pay-1")[:8]
    only = nx("migrate", "--workflow", m2, "--from", pay_from, "--dry-run", "--json", "--data-dir", d2)
    picked = sorted(x["correlation_id"] for x in json.loads(only.stdout)["sagas"]) if only.stdout else []
    expect(only.returncode == 0 and picked == ["pay-1", "pay-2"],
           f"--from selects the sagas on one definition by the start of its hash: {picked}")
    expect(nx("migrate", "--workflow", m2, "--from", "XYZ", "--data-dir", d2).returncode == 2,
           "a --from that is not hex is exit 2")
    bad = nx("migrate", "--workflow", os.path.join(work, "nope.json"), "--data-dir", d2)
    expect(bad.returncode == 2, "a missing workflow file is exit 2")
    unknown = nx("migrate", "--workflow", m2, "--saga", "nope", "--data-dir", d2)
    expect(unknown.returncode == 2 and "--saga nope" in unknown.stderr, "an unknown --saga is exit 2")

    moved = nx("migrate", "--workflow", m2, "--saga", "hold", "--json", "--data-dir", d2)
    report = json.loads(moved.stdout) if moved.returncode == 0 else {}
    expect(moved.returncode == 0 and report.get("moved") == 2 and report.get("refused") == 0,
           f"compatible running sagas move: {moved.stdout!r} {moved.stderr!r}")
    changed = [e for e in events(d2, "hold-1") if e["type"] == "definition_changed"]
    expect(len(changed) == 1 and changed[0]["from"] == hash_of(m1, d2, "hold", "hold-1")
           and len(changed[0]["definition"]) == 64,
           f"a moved saga has a definition_changed event from its old to its new: {changed}")

    open(gate, "w").close()  # the holds, resumed by each retry's run, may end now
    again = nx("retry", "pay-1", "--workflow", m2, "--data-dir", d2)
    expect(again.returncode == 0 and entries("pay-1") == ["a", "b", "refund-bad", "refund-bad"]
           and status(d2, "pay-1") == "failed",
           f"retry runs the stored compensation, not the file's: {entries('pay-1')} {again.stderr[-300:]!r}")
    refused = nx("retry", "pay-1", "--workflow", m4, "--migrate", "--data-dir", d2)
    expect(refused.returncode == 1
           and "pay-1: step a would still be compensated, " + m4 + " removes its compensation"
           in refused.stderr and entries("pay-1").count("refund-bad") == 2,
           f"retry --migrate refuses an unsafe move and writes nothing: {refused.stderr!r}")
    fixed_run = nx("retry", "pay-1", "--workflow", m2, "--migrate", "--data-dir", d2)
    expect(fixed_run.returncode == 0 and entries("pay-1")[-1] == "refund-good"
           and status(d2, "pay-1") == "compensated",
           f"retry --migrate runs the fixed compensation: {entries('pay-1')} {fixed_run.stderr[-300:]!r}")
    expect(entries("hold-1") == ["a", "b", "b", "x"] and status(d2, "hold-1") == "completed",
           f"a moved saga runs the steps its new definition adds ahead: {entries('hold-1')}")
    plain = nx("migrate", "--workflow", m2, "--data-dir", d2)
    expect(plain.returncode == 0 and "pay-2: moved from" in plain.stdout,
           f"nexus migrate moves the failed saga left: {plain.stdout!r}")
    last = nx("retry", "pay-2", "--workflow", m2, "--data-dir", d2)
    expect(last.returncode == 0 and status(d2, "pay-2") == "compensated"
           and entries("pay-2")[-1] == "refund-good", "then nexus retry compensates it")

    # -- 3. a definition missing from the log ------------------------------------
    d3 = os.path.join(work, "d3")
    os.remove(gate)
    lost = write("lost.json", {"hold": {"steps": [step("a"), step("b", block=True)]}}, d3)
    run = start_run(lost, lines(os.path.join(work, "l.jsonl"), [{"saga": "hold", "correlation_id": "lost-1"}]))
    wait_for("lost-1 waits at b", lambda: entries("lost-1") == ["a", "b"], 60)
    kill_run(run)
    gone = hash_of(lost, d3, "hold", "lost-1")
    removed = subprocess.run(["ldb", "--db=" + d3, "--column_family=definitions", "delete", gone],
                             capture_output=True, text=True, timeout=60)
    expect(removed.returncode == 0, f"the definition is removed by hand: {removed.stderr!r}")
    open(gate, "w").close()
    newer = write("newer.json", {"hold": {"steps": [step("a"), step("b", block=True), step("c")]}}, d3)
    stuck = nx("run", newer, "--no-progress")
    expect(stuck.returncode == 1 and "lost-1" in stuck.stderr and "not in the event log" in stuck.stderr,
           f"a saga whose definition is missing is named, exit 1: {stuck.stderr[-400:]!r}")
    cancel = nx("run", newer, "--input", lines(os.path.join(work, "c.jsonl"), [{"cancel": "lost-1"}]),
                "--no-progress")
    expect(cancel.returncode == 1
           and [e["type"] for e in events(d3, "lost-1")][-1] == "cancel_requested",
           f"a cancel of it is stored, though it cannot run yet: {cancel.stderr[-300:]!r}")
    rescue = nx("migrate", "--workflow", newer, "--data-dir", d3)
    expect(rescue.returncode == 0 and "lost-1: moved from" in rescue.stdout,
           f"nexus migrate moves it by the steps its events name: {rescue.stdout!r} {rescue.stderr!r}")
    ended = nx("run", newer, "--no-progress")
    expect(ended.returncode == 0 and status(d3, "lost-1") == "cancelled"
           and entries("lost-1") == ["a", "b", "b"],
           f"and a run ends it, as its cancel asked: {entries('lost-1')} {ended.stderr[-300:]!r}")

    # -- 4. a log from the previous release -------------------------------------
    old = os.path.join(work, "old")
    os.makedirs(old)
    with tarfile.open(os.path.join(src, "tests", "data", "log-v1", "data.tar.gz")) as t:
        t.extractall(old)
    listed = nx("definitions", "--data-dir", os.path.join(old, "data")).stdout
    expect("(none stored)" in listed and "order" in listed,
           f"nexus definitions shows sagas from before definitions: {listed!r}")
    resumed = subprocess.run([nexus, "run", os.path.join(src, "tests", "data", "log-v1", "workflow.json"),
                              "--data-dir", os.path.join(old, "data"), "--no-progress"],
                             capture_output=True, text=True, env=env, timeout=120)
    expect(resumed.returncode == 0 and "resumed 2" in resumed.stdout,
           f"a schema-1 log resumes: {resumed.stdout!r} {resumed.stderr[-300:]!r}")
    expect(entries("old-1") == ["charge", "ship"] and entries("old-2") == ["charge", "ship"],
           f"its sagas finish on the workflow's definition: {entries('old-1')} {entries('old-2')}")
    rows = [json.loads(l) for l in nx("sagas", "--json", "--data-dir", os.path.join(old, "data")).stdout.splitlines()]
    expect(len(rows) == 2 and all(len(r["definition"]) == 64 and r["status"] == "completed" for r in rows),
           f"their rows now name the definition they finished on: {rows}")
finally:
    stop_all(procs)

finish(work)
