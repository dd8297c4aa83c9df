#!/usr/bin/env bash
# A compensation that fails for good leaves its saga `failed`; once the
# operator fixes the cause, `nexus retry` compensates it again, from the
# step that failed, to `compensated`. Bad retries change nothing.
# Usage: retry_test.sh NEXUS_BINARY SOURCE_DIR
set -u
nexus=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/checks.sh"

step="$src/tests/programs/step.sh"
ledger="$work/refunds"
data="$work/data"
cat >"$work/wf.json" <<JSON
{"runtime": {"data_dir": "$data"},
 "defaults": {"retry": {"max_attempts": 2, "initial_interval_ms": 1, "max_interval_ms": 2}},
 "sagas": {"order": {"steps": [
   {"name": "charge", "action": {"kind": "simulate"},
    "compensate": {"kind": "exec", "argv": ["$step", "fail-ledger", "$ledger"]}},
   {"name": "ship", "action": {"kind": "simulate", "fail_first": 9, "fail_kind": "permanent"}}]}}}
JSON
touch "$ledger.fail" # the refund service is down
printf '{"saga":"order","correlation_id":"r-1"}\n{"saga":"order","correlation_id":"r-2"}\n' >"$work/in.jsonl"
"$nexus" run "$work/wf.json" --input "$work/in.jsonl" --json >"$work/out" 2>"$work/err"
check "run" 0 $?
contains "both sagas failed" "$work/out" '"failed":2'
"$nexus" sagas --status failed --data-dir "$data" >"$work/out" 2>&1; check "sagas --status failed" 0 $?
contains "failed saga listed" "$work/out" "r-1"
"$nexus" events r-1 --data-dir "$data" >"$work/out" 2>&1
contains "the end names the step" "$work/out" "compensation of step charge failed for good"

# Bad retries: exit 2, and nothing changes.
"$nexus" retry r-1 nope --workflow "$work/wf.json" >"$work/out" 2>&1; check "retry of an unknown saga" 2 $?
contains "unknown saga named" "$work/out" "saga nope is not in the log"
"$nexus" retry 'bad/id' --workflow "$work/wf.json" >"$work/out" 2>&1; check "retry of a bad ID" 2 $?
"$nexus" retry r-1 >"$work/out" 2>&1; check "retry without a workflow" 2 $?
"$nexus" sagas --status failed --data-dir "$data" --json >"$work/out" 2>&1
[ "$(wc -l <"$work/out")" -eq 2 ]; check "bad retries reopened nothing" 0 $?

rm "$ledger.fail" # the operator fixes the refund service
"$nexus" retry r-1 r-2 --workflow "$work/wf.json" --json >"$work/out" 2>"$work/err"
check "retry" 0 $?
contains "both resumed" "$work/out" '"resumed":2'
contains "both compensated" "$work/out" '"compensated":2'
"$nexus" events r-1 --data-dir "$data" --json >"$work/events" 2>&1
python3 - "$work/events" <<'PY' || { echo "FAIL: r-1's events after the retry"; failures=$((failures + 1)); }
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
types = [e["type"] for e in events]
assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "gap"
i = types.index("retry_requested")
assert types[i - 1] == "saga_failed", types
assert types[i + 1:] == ["compensation_started", "compensation_succeeded", "saga_compensated"], types
assert events[i + 1]["attempt"] == 1 and events[i + 1]["idempotency_key"] == "r-1/charge/compensate"
PY
"$nexus" retry r-1 --workflow "$work/wf.json" >"$work/out" 2>&1; check "retry of a compensated saga" 2 $?
contains "says why" "$work/out" "saga r-1 is compensated: only a saga that ended failed"
# Two attempts failed, one succeeded, per saga: the same key each time.
[ "$(grep -c '^r-1/charge/compensate ' "$ledger")" -eq 3 ]; check "ledger holds three refunds of r-1" 0 $?

finish
