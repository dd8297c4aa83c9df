"""Reads a Nexus event log with RocksDB's own ldb tool and checks it.

check(dir) -> {cid: {"status": ..., "seqs": [...], "events": [...], "row": {...}}}, raising
AssertionError if a saga's sequence numbers do not run from 1 without gap or
duplicate, or if its row disagrees with its events.
"""
import json
import subprocess


def _scan(data_dir, family, key_hex):
    args = ["ldb", f"--db={data_dir}", f"--column_family={family}", "scan"]
    if key_hex:
        args.append("--key_hex")
    out = subprocess.run(args, check=True, capture_output=True).stdout
    for line in out.splitlines():
        key, _, value = line.partition(b" : ")
        yield key, json.loads(value)


def check(data_dir):
    sagas = {}
    for key, row in _scan(data_dir, "sagas", False):
        sagas[key.decode()] = {"status": row["status"], "row": row, "seqs": [], "events": []}
    for _, event in _scan(data_dir, "events", True):
        cid = event["cid"]
        assert cid in sagas, f"events of {cid} but no saga row"
        sagas[cid]["seqs"].append(event["seq"])
        sagas[cid]["events"].append(event)
        sagas[cid]["last_type"] = event["type"]
    for cid, s in sagas.items():
        if s["row"].get("expired"):
            continue
        seqs = s["seqs"]
        assert seqs == list(range(1, len(seqs) + 1)), f"{cid}: sequence {seqs}"
        # Rows are rewritten when the status changes: exact once ended.
        if s["status"] in TERMINAL:
            assert s["row"]["last_seq"] == len(seqs), f"{cid}: row says {s['row']['last_seq']}, {len(seqs)} events"
        else:
            assert s["row"]["last_seq"] <= len(seqs), f"{cid}: row ahead of its events"
    return sagas


TERMINAL = {"completed", "compensated", "failed", "cancelled"}
