#!/usr/bin/env bash
# Drives the real nexus binary: usage errors, validate, run, events, sagas.
# Usage: cli_test.sh NEXUS_BINARY SOURCE_DIR
set -u
nexus=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/checks.sh"

"$nexus" --help >"$work/out" 2>&1; check "help" 0 $?
contains "help lists run" "$work/out" "run"
"$nexus" no-such-command >"$work/out" 2>&1; check "unknown subcommand" 2 $?
contains "unknown subcommand is named" "$work/out" "unknown command 'no-such-command'"
"$nexus" run >"$work/out" 2>&1; check "run without workflow" 2 $?
"$nexus" run "$src/examples/order.json" --bogus >"$work/out" 2>&1; check "unknown option" 2 $?

"$nexus" validate "$src/examples/order.json" >"$work/out" 2>&1; check "validate example" 0 $?
"$nexus" validate "$src/examples/provision.json" >"$work/out" 2>&1; check "validate exec example" 0 $?
printf '{\n "sagas": {"o": {"steps": [\n  {"name": "a", "action": {"kind": "simulate", "latency": 1}}]}}}\n' >"$work/bad.json"
"$nexus" validate "$work/bad.json" >"$work/out" 2>&1; check "validate bad file" 2 $?
contains "validate names file, line and path" "$work/out" "bad.json:3: sagas.o.steps[0].action.latency: unknown key"

data="$work/data"
"$nexus" run "$work/bad.json" --generate 5 --saga o --data-dir "$data" >"$work/out" 2>&1
check "run with a bad workflow" 2 $?
[ ! -e "$data" ]; check "a bad workflow writes nothing" 0 $?

"$nexus" run "$src/examples/order.json" --generate 50 --saga order --data-dir "$data" --json \
  >"$work/summary.json" 2>"$work/err"; check "run generated" 0 $?
contains "summary has started" "$work/summary.json" '"started":50'
python3 - "$work/summary.json" <<'PY' || { echo "FAIL: summary is not the documented JSON"; failures=$((failures + 1)); }
import json, sys
s = json.load(open(sys.argv[1]))
for k in ("started", "resumed", "completed", "compensated", "failed", "cancelled", "events",
          "seconds", "sagas_per_sec"):
    assert k in s, k
assert s["completed"] + s["compensated"] + s["failed"] + s["cancelled"] == 50
PY

"$nexus" run "$src/examples/order.json" --generate 5 --saga nope --data-dir "$data" >"$work/out" 2>&1
check "run with an unknown saga" 2 $?

printf '{"saga":"order","correlation_id":"cli-1","input":{"sku":"x"}}\n' >"$work/in.jsonl"
"$nexus" run "$src/examples/order.json" --input "$work/in.jsonl" --data-dir "$data" >"$work/out" 2>&1
check "run input file" 0 $?
"$nexus" events cli-1 --data-dir "$data" >"$work/out" 2>&1; check "events" 0 $?
contains "events start with saga_started" "$work/out" "saga_started"
"$nexus" events cli-1 --data-dir "$data" --json >"$work/events.jsonl" 2>&1; check "events --json" 0 $?
python3 - "$work/events.jsonl" <<'PY' || { echo "FAIL: events --json"; failures=$((failures + 1)); }
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
assert events[0]["type"] == "saga_started" and events[0]["input"] == {"sku": "x"}
assert events[-1]["type"] in ("saga_completed", "saga_compensated", "saga_failed")
assert all(e["cid"] == "cli-1" and e["v"] == 1 for e in events)
PY
"$nexus" events "$(printf 'bad\nid')" --data-dir "$data" >"$work/out" 2>&1; check "events bad id" 2 $?
contains "bad id shown escaped" "$work/out" '"bad\x0aid"'
"$nexus" events never-ran --data-dir "$data" >"$work/out" 2>&1; check "events unknown saga" 1 $?
"$nexus" sagas --data-dir "$data" --json >"$work/sagas.jsonl" 2>&1; check "sagas --json" 0 $?
[ "$(wc -l <"$work/sagas.jsonl")" -eq 51 ]; check "sagas lists every saga" 0 $?
"$nexus" sagas --data-dir "$work/none" >"$work/out" 2>&1; check "sagas without a log" 1 $?

# events --follow, in a second process, sees every event a run writes, in order.
"$nexus" events --follow --json --poll-ms 20 --data-dir "$data" >"$work/follow.jsonl" 2>"$work/follow.err" &
follower=$!
for _ in $(seq 1 300); do grep -q "following" "$work/follow.err" && break; sleep 0.1; done
"$nexus" run "$src/examples/order.json" --generate 200 --saga order --data-dir "$data" --json \
  >"$work/summary2.json" 2>/dev/null; check "run while followed" 0 $?
expected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$work/summary2.json")
# Wait for the follower to catch up: a condition with a deadline, not a timing.
for _ in $(seq 1 300); do
  [ "$(wc -l <"$work/follow.jsonl")" -ge "$expected" ] && break
  sleep 0.1
done
kill -INT "$follower"; wait "$follower"; check "follower stops cleanly on SIGINT" 0 $?
python3 - "$work/follow.jsonl" "$expected" <<'PY' || { echo "FAIL: events --follow"; sed 's/^/  | /' "$work/follow.err"; failures=$((failures + 1)); }
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
assert len(events) == int(sys.argv[2]), f"{len(events)} events followed, {sys.argv[2]} written"
seqs = {}
for e in events:
    assert e["seq"] == seqs.get(e["cid"], 0) + 1, e
    seqs[e["cid"]] = e["seq"]
assert len(seqs) == 200
PY
"$nexus" events --data-dir "$data" >"$work/out" 2>&1; check "events without a CID or --follow" 2 $?

# Correlation IDs are refused at the edge, shown escaped, exit 2, nothing written.
for bad in 'new\nline' 'a/b' '\u001b[31mred' "$(printf 'x%.0s' $(seq 1 129))" ''; do
  edge="$work/edge"
  rm -rf "$edge"
  printf '{"saga":"order","correlation_id":"%s"}\n' "$bad" >"$work/bad-id.jsonl"
  "$nexus" run "$src/examples/order.json" --input "$work/bad-id.jsonl" --data-dir "$edge" \
    >"$work/out" 2>&1; check "refuse correlation ID [$bad]" 2 $?
  n=$("$nexus" sagas --data-dir "$edge" 2>/dev/null | wc -l); [ "$n" -eq 0 ]
  check "nothing stored for correlation ID [$bad]" 0 $?
done
contains "an empty correlation ID is named" "$work/out" "correlation ID is empty"
printf '{"saga":"order","correlation_id":"%s"}\n' 'esc\u001b[2Jx' >"$work/bad-id.jsonl"
"$nexus" run "$src/examples/order.json" --input "$work/bad-id.jsonl" --data-dir "$work/edge2" >"$work/out" 2>&1
contains "a bad correlation ID is shown escaped" "$work/out" '"esc\x1b[2Jx"'
if grep -q $'\x1b' "$work/out"; then echo "FAIL: raw escape byte reached the terminal"; failures=$((failures + 1)); else passed=$((passed + 1)); fi

# Readers work while a run writes.
"$nexus" run "$src/examples/order.json" --generate 20000 --saga order --data-dir "$work/busy" \
  >/dev/null 2>&1 &
writer=$!
for _ in $(seq 1 300); do [ -e "$work/busy/CURRENT" ] && break; sleep 0.05; done
"$nexus" sagas --data-dir "$work/busy" --json >"$work/busy.jsonl" 2>"$work/out"; check "sagas during a run" 0 $?
cid=$(head -1 "$work/busy.jsonl" | python3 -c 'import json,sys; l=sys.stdin.readline(); print(json.loads(l)["cid"] if l else "none")')
if [ "$cid" != none ]; then
  "$nexus" events "$cid" --data-dir "$work/busy" >"$work/out" 2>&1; check "events during a run" 0 $?
fi
wait "$writer"; check "the busy run ends well" 0 $?

finish
