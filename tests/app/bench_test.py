#!/usr/bin/env python3
"""`nexus bench` at small counts: every phase runs, its JSON has the fields
bench/README.md documents, the counts agree with one another (the raw loop
writes the closed loop's events, raw messaging sends its messages, the
recovery child dies half-way and the rest resume), the table prints, and
bad options exit 2. Figures are not judged here: machines are noisy.

Usage: bench_test.py NEXUS SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

nexus, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "tools"))
from checks import expect, finish  # noqa: E402

work = tempfile.mkdtemp(prefix="nexus-bench-test-")
SAGAS, IN_FLIGHT, RECOVERY, STEPS, WAITING = 400, 100, 600, 3, 1000


def bench(*args):
    return subprocess.run([nexus, "bench", "--dir", work, "--no-progress", *args],
                          capture_output=True, text=True, timeout=240)


run = bench("--sagas", str(SAGAS), "--in-flight", str(IN_FLIGHT), "--recovery-sagas",
            str(RECOVERY), "--memory-sagas", "300", "--waiting-sagas", str(WAITING), "--steps",
            str(STEPS), "--json")
expect(run.returncode == 0, f"bench --json exits 0 (got {run.returncode}: {run.stderr[-500:]})")
try:
    r = json.loads(run.stdout)
except ValueError:
    r = {}
    expect(False, f"bench --json prints one JSON object: {run.stdout[:300]!r}")

if r:
    for key in ("nexus_version", "machine", "settings", "raw_storage", "raw_messaging", "raw_sync",
                "closed_loop", "fixed_rate", "failure_mix", "recovery", "memory", "http", "waiting",
                "metrics_cost", "replicated", "peak_rss_bytes", "storage_ratio", "messaging_ratio",
                "targets"):
        expect(key in r, f"the JSON has {key}")
    s = r["settings"]
    expect((s["steps"], s["sagas"], s["in_flight"], s["durability"], s["recovery_sagas"],
            s["memory_sagas"]) == (STEPS, SAGAS, IN_FLIGHT, "sync", RECOVERY, 300),
           f"settings as given: {s}")
    events_per_saga = 2 * STEPS + 2

    c = r["closed_loop"]
    expect((c["sagas"], c["completed"], c["events"]) == (SAGAS, SAGAS, SAGAS * events_per_saga),
           f"the closed loop ran every saga to the end: {c}")
    expect(0 < c["write_batches"] <= c["events"], "the closed loop counts its write batches")
    expect(c["cpu_ms_per_saga"] > 0, f"and the CPU a saga took: {c['cpu_ms_per_saga']}")
    mc = r["metrics_cost"]
    expect(mc["rounds"] == 5 and mc["on_sagas_per_sec"] > 0 and mc["off_sagas_per_sec"] > 0
           and mc["on_cpu_ms_per_saga"] > 0 and mc["off_cpu_ms_per_saga"] > 0
           and abs(mc["rate_ratio"] - mc["on_sagas_per_sec"] / mc["off_sagas_per_sec"]) < 1e-4
           and abs(mc["cpu_ratio"] - mc["on_cpu_ms_per_saga"] / mc["off_cpu_ms_per_saga"]) < 1e-4,
           f"the metrics' cost: the closed loop with and without them: {mc}")
    lat = c["latency_ms"]
    expect(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"] * 1.02,
           f"closed-loop latency percentiles in order: {lat}")

    h = r["http"]
    expect(h["starts"] == SAGAS and h["starts_per_sec"] > 0 and h["server_cpu_ms_per_start"] > 0
           and 0 < h["latency_ms"]["p50"] <= h["latency_ms"]["p99"] <= h["latency_ms"]["max"] * 1.02
           and h["fixed_rate"] > 0 and h["fixed_latency_ms"]["p99"] > 0
           and h["ratio_to_closed_loop"] > 0,
           f"the http phase started every saga over HTTP, closed loop and at a fixed rate: {h}")

    # A leader and a follower with etcd between them, against one node.
    rp = r["replicated"]
    one, two = rp["single"], rp["leader_and_follower"]
    expect(rp["sagas"] == SAGAS // 2 and one["starts"] == two["starts"] == SAGAS // 2
           and one["sagas_per_sec"] > 0 and two["sagas_per_sec"] > 0
           and abs(rp["ratio"] - two["sagas_per_sec"] / one["sagas_per_sec"]) < 1e-4
           and 0 < two["start_latency_ms"]["p50"] <= two["start_latency_ms"]["p99"],
           f"the replicated phase ran its sagas on one node and on a leader with a follower: {rp}")

    raw = r["raw_storage"]
    expect(raw["records"] == c["events"], "the raw loop writes as many records as the closed loop's events")
    expect(abs(raw["batch"] - c["events_per_batch"]) <= 0.5 + 1e-9,
           "in batches of the closed loop's mean size")
    expect(raw["record_bytes"] > 100, "of the size of stored events")
    expect(raw["records_per_sec"] > 0, "the raw loop reports a rate")

    m = r["raw_messaging"]
    expect(m["messages_per_saga"] == 4 * STEPS + 3, "messages a saga: 4 per step and 3")
    expect(m["messages"] == SAGAS * m["messages_per_saga"],
           f"raw messaging counted every message it sent: {m['messages']}")
    expect(m["cpu_ms_per_saga"] > 0 and raw["cpu_ms_per_saga"] > 0,
           f"both raw runs report their CPU a saga: {m['cpu_ms_per_saga']}, {raw['cpu_ms_per_saga']}")
    # What Nexus's actors took: the raw run's pattern, and a few of the
    # run's own (the writer's and syncer's turns, the coordinator's).
    expect(m["messages_per_saga"] <= c["messages_per_saga"] <= m["messages_per_saga"] + 4,
           f"the closed loop's messages a saga, counted: {c['messages_per_saga']}")

    rs = r["raw_sync"]
    for half in ("alone", "beside_flush"):
        h = rs[half]
        lat = h["latency_ms"]
        expect(h["syncs"] > 0 and 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"]
               <= lat["max"] * 1.02 and 0 <= h["stalled_share"] <= 1,
               f"raw sync {half}: syncs timed, percentiles in order: {h}")
    expect(rs["write_bytes"] == 8192 and rs["flushed_bytes"] >= rs["flush_file_bytes"],
           f"raw sync appended 8 KiB a sync, and the flushing thread wrote a file at least: {rs}")

    f = r["fixed_rate"]
    # (Both as printed: to six significant digits.)
    expect(abs(f["rate"] - c["sagas_per_sec"] * 0.5) <= 1e-4 * f["rate"],
           f"the fixed rate is half the closed loop's: {f['rate']} of {c['sagas_per_sec']}")
    expect(f["completed"] == SAGAS, "every fixed-rate saga completed")
    expect(f["cpu_ms_per_saga"] > 0 and f["messages_per_saga"] >= m["messages_per_saga"]
           and f["latency_ms"]["p99"] <= f["latency_ms"]["p999"],
           f"with its CPU and messages a saga, and its p999: {f['cpu_ms_per_saga']}, "
           f"{f['messages_per_saga']}, {f['latency_ms']}")
    dist = f["latency_distribution"]
    expect(len(dist) > 5 and dist[-1][0] == 1.0 and all(a[1] <= b[1] for a, b in zip(dist, dist[1:])),
           "the latency distribution rises to the maximum")

    x = r["failure_mix"]
    expect(x["completed"] + x["compensated"] + x["failed"] == SAGAS, "every failure-mix saga ended")
    # 10 % of each step fails for good: about 27 % of 3-step sagas compensate.
    expect(0.1 * SAGAS < x["compensated"] < 0.5 * SAGAS, f"a share compensated: {x['compensated']}")

    rec = r["recovery"]
    expect(RECOVERY // 2 <= rec["ended_before_kill"] < RECOVERY,
           f"the child died mid-way: {rec['ended_before_kill']} had ended")
    # More than it was told of may have ended: the rest are resumed.
    expect(rec["resumed"] <= RECOVERY - rec["ended_before_kill"],
           f"no more resumed than were unfinished: {rec['resumed']}")
    expect(rec["completed"] == rec["resumed"], "and all of them completed")
    expect(rec["replayed_events"] >= rec["resumed"] * 2, "their events were read back")
    expect(rec["seconds"] > 0 and rec["open_seconds"] > 0, "recovery reports its time")
    expect(rec["resumed"] == 0 or (rec["cpu_ms_per_saga"] > 0 and rec["messages_per_saga"] > 0),
           f"and its CPU and messages a resumed saga: {rec}")

    mem = r["memory"]
    expect(mem["sagas"] == 300 and mem["heap_bytes_per_saga"] > 0 and mem["actor_bytes"] > 1000,
           f"memory per waiting saga measured: {mem}")
    wt = r["waiting"]
    expect(wt["sagas"] == WAITING and wt["parked"] == WAITING and wt["rss_bytes"] > 0,
           f"the waiting child parked every saga and measured itself: {wt}")
    expect(wt["parked_after_restart"] == WAITING + 1 and wt["first_start_seconds"] > 0,
           f"the restart left them parked and took a new saga: {wt}")
    expect(wt["signalled"] == WAITING // 10 and wt["signalled_per_sec"] > 0,
           f"a tenth were signalled and completed: {wt}")
    expect(wt["timers"] == WAITING // 10 and wt["sleepers_parked"]
           and 0 <= wt["timers_fire_seconds"] <= wt["timers_seconds"],
           f"as many parked sleepers woke: {wt}")
    expect(set(r["targets"]) == {"storage_ratio", "messaging_ratio", "sagas_per_sec",
                                 "cpu_ms_per_saga", "p99_ms_at_fixed_rate",
                                 "bytes_per_saga", "recovery_seconds", "http_starts_per_sec",
                                 "http_p99_ms_at_half_rate", "waiting_rss_mib",
                                 "waiting_restart_first_start_s", "signalled_sagas_per_sec",
                                 "same_second_timers_fire_s", "metrics_cost_ratio",
                                 "replicated_ratio"},
           "every target reported")
    expect(all(isinstance(t["met"], bool) for t in r["targets"].values()), "each says met or not")

expect(os.listdir(work) == [], f"the work directory is left empty: {os.listdir(work)}")

# bench/plot makes its charts from runs' JSON (when gnuplot is here: the
# test installs nothing).
if r and shutil.which("gnuplot"):
    runs = []
    for n in (100, 1000):
        r["settings"]["in_flight"] = n
        runs.append(os.path.join(work, f"run-{n}.json"))
        with open(runs[-1], "w") as f:
            json.dump(r, f)
    charts = os.path.join(work, "charts")
    plot = subprocess.run([os.path.join(src, "bench", "plot"), charts, *runs], capture_output=True,
                          text=True, timeout=60)
    expect(plot.returncode == 0, f"bench/plot exits 0 ({plot.stderr[-300:]})")
    for name in ("throughput.png", "latency.png", "recovery.png"):
        path = os.path.join(charts, name)
        head = open(path, "rb").read(8) if os.path.exists(path) else b""
        expect(head == b"\x89PNG\r\n\x1a\n", f"bench/plot made {name}")
    shutil.rmtree(charts, ignore_errors=True)
    for path in runs:
        os.remove(path)
    bad = subprocess.run([os.path.join(src, "bench", "plot"), charts, os.path.join(src, "README.md")],
                         capture_output=True, text=True, timeout=60)
    expect(bad.returncode == 2 and "README.md" in bad.stderr,
           f"bench/plot names a file that is not a run's JSON ({bad.stderr.strip()[:120]})")
else:
    print("skipped: bench/plot (no gnuplot here)")

# Some phases, as a table.
run = bench("--sagas", "200", "--in-flight", "50", "--phases", "closed-loop,raw-storage")
expect(run.returncode == 0, f"bench --phases closed-loop,raw-storage exits 0 ({run.stderr[-300:]})")
expect("raw storage" in run.stdout and "nexus closed loop" in run.stdout
       and "storage_ratio" in run.stdout, "the table shows both runs and the ratio")
expect("raw messaging" not in run.stdout and "recovery" not in run.stdout,
       "and no run that was not asked for")

for args, what in ((["--phases", "raw-storage"], "raw storage without the closed loop"),
                   (["--phases", "fixed-rate"], "fixed rate with neither closed loop nor --rate"),
                   (["--phases", "bogus"], "an unknown phase"),
                   (["--steps", "0"], "zero steps"),
                   (["--durability", "maybe"], "an unknown durability")):
    run = bench(*args)
    expect(run.returncode == 2 and run.stderr.strip() != "",
           f"{what}: exit 2 with a message (got {run.returncode}: {run.stderr.strip()[:200]})")

run = subprocess.run([nexus, "bench", "--dir", os.path.join(work, "missing")], capture_output=True,
                     text=True, timeout=60)
expect(run.returncode == 2 and "missing" in run.stderr,
       f"a --dir that does not exist: exit 2 naming it ({run.stderr.strip()[:200]})")

finish(work)
