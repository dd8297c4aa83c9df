#!/usr/bin/env bash
# A full disk under the event log: the run stops with exit 1 naming the data
# directory and the cause, no failed write is acknowledged, and once there is
# room again the next run finishes everything with nothing acknowledged lost.
# Needs permission to mount a tmpfs; exits 77 (skipped) and says why if not.
# Usage: disk_full_test.sh NEXUS SOURCE_DIR
set -u
nexus=$1
src=$2
work=$(mktemp -d)
mnt="$work/mnt"
mkdir -p "$mnt"
cleanup() { umount "$mnt" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
if ! mount -t tmpfs -o size=3m tmpfs "$mnt" 2>"$work/mount.err"; then
  echo "SKIPPED: cannot mount a 3 MiB tmpfs for the data directory ($(cat "$work/mount.err")):"
  echo "this test needs root with CAP_SYS_ADMIN to fill a small filesystem on purpose."
  exit 77
fi
data="$mnt/data"
python3 -c 'import json
for i in range(5000): print(json.dumps({"saga": "order", "correlation_id": f"df-{i}"}))' >"$work/in.jsonl"

# The disk fills while the writer writes one batch and its syncer syncs the
# last: whichever thread meets the full disk, the run must fail, never
# abort (RocksDB's assertions once took it down one time in six), so the
# full-disk run goes ten times, each on an empty disk; the last one's log is
# the one checked below.
aborted=""
for try in $(seq 1 10); do
  rm -rf "$data"
  "$nexus" run "$src/examples/order.json" --input "$work/in.jsonl" --max-in-flight 500 \
    --data-dir "$data" --json >"$work/first.json" 2>"$work/first.err"
  status=$?
  if [ "$status" -ne 1 ]; then
    aborted="$aborted try $try: exit $status: $(tail -c 400 "$work/first.err");"
  fi
done
if [ -n "$aborted" ]; then
  echo "FAIL: a run on a full disk did not exit 1:$aborted"
  exit 1
fi
mount -o remount,size=128m "$mnt"
"$nexus" run "$src/examples/order.json" --input "$work/in.jsonl" --data-dir "$data" --json \
  >"$work/second.json" 2>"$work/second.err"
second=$?

python3 - "$work" "$data" "$status" "$second" "$src" <<'PY'
import json, sys
work, data, status, second, src = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sys.path.insert(0, src + "/tests/tools")
import log_check
failures = []
def expect(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)
first = json.load(open(f"{work}/first.json"))
err = open(f"{work}/first.err").read()
expect(status == 1, f"the run on a full disk exits 1 (got {status})")
expect(data in err and "No space left on device" in err, "the error names the data directory and the cause")
reported = first["completed"] + first["compensated"] + first["failed"] + first["cancelled"]
expect(reported > 0, f"some sagas finished before the disk filled ({reported})")
expect(second == 0, f"the run after making room exits 0 (got {second}): " + open(f"{work}/second.err").read())
sagas = log_check.check(data)  # raises on a gap, a duplicate or a row that disagrees
expect(len(sagas) == 5000, f"all 5000 sagas are in the log ({len(sagas)})")
expect(all(s["status"] in log_check.TERMINAL for s in sagas.values()), "every saga ended")
s2 = json.load(open(f"{work}/second.json"))
expect(s2["duplicates"] + s2["started"] == 5000, "the second run started only what the first had not stored")
# Nothing acknowledged was lost: every saga the first run reported finished
# is finished in the log with the same count per outcome at least.
for outcome in ("completed", "compensated"):
    expect(sum(1 for s in sagas.values() if s["status"] == outcome) >= first[outcome],
           f"{outcome}: at least the {first[outcome]} the first run reported")
print(f"5000 sagas checked, {len(failures)} failed checks")
sys.exit(1 if failures else 0)
PY
