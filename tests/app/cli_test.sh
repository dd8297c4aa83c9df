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
contains "an unknown option gets a usage hint" "$work/out" "Run with --help for more information."
contains "an unknown command gets a usage hint" "$work/out" "Run with --help"
"$nexus" --version >"$work/out" 2>&1; check "version" 0 $?
# The release, then the commit built: this checkout's, when it is one.
commit=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if head -n 1 "$work/out" | grep -qE "^nexus [0-9]+\.[0-9]+\.[0-9]+ \(commit $commit(-dirty)?\)\$"; then
  passed=$((passed + 1))
else
  echo "FAIL: --version's first line is not 'nexus X.Y.Z (commit $commit)':"; sed 's/^/  | /' "$work/out"
  failures=$((failures + 1))
fi
for lib in "nexus 0." "CAF 0.17" "RocksDB 7." "spdlog 1." "simdjson 3." "libcurl"; do
  contains "--version names $lib" "$work/out" "$lib"
done
for cmd in run events sagas retry breakers stats validate; do
  "$nexus" "$cmd" --help >"$work/out" 2>&1; check "$cmd --help" 0 $?
  contains "$cmd --help has its usage" "$work/out" "Usage: nexus $cmd"
done
"$nexus" run --help >"$work/out" 2>&1
for opt in --input --on-bad-input --generate --saga --data-dir --threads --max-in-flight --json \
           --no-progress --log-level; do
  contains "run --help describes $opt" "$work/out" "$opt"
done
"$nexus" sagas --help >"$work/out" 2>&1
for opt in --status --limit --data-dir --json; do contains "sagas --help describes $opt" "$work/out" "$opt"; done
"$nexus" sagas --limit x >"$work/out" 2>&1; check "sagas with a bad limit" 2 $?
"$nexus" sagas --limit -1 >"$work/out" 2>&1; check "sagas with a negative limit" 2 $?
contains "a negative limit is named plainly" "$work/out" "--limit: must be 0 or more, got -1"
"$nexus" run "$src/examples/order.json" --max-in-flight 0 >"$work/out" 2>&1; check "no room in flight" 2 $?
contains "a zero --max-in-flight is named plainly" "$work/out" "--max-in-flight: must be more than 0, got 0"
"$nexus" run "$src/examples/order.json" --log-level loud >"$work/out" 2>&1; check "a bad log level" 2 $?
"$nexus" run "$src/examples/order.json" --listen 77x >"$work/out" 2>&1; check "a bad --listen" 2 $?
contains "a bad --listen is named" "$work/out" "--listen 77x: expected HOST:PORT"
NEXUS_CLUSTER_TOKEN= "$nexus" run "$src/examples/order.json" --listen 0.0.0.0:0 --data-dir "$work/open" \
  >"$work/out" 2>&1; check "listening beyond 127.0.0.1 without a token" 2 $?
contains "it needs a token" "$work/out" "needs a cluster token"
[ ! -e "$work/open" ]; check "a refused --listen writes nothing" 0 $?
"$nexus" worker "$src/examples/order.json" --join 127.0.0.1:1 --stages nope >"$work/out" 2>&1
check "a worker naming an unknown step" 2 $?
"$nexus" submit --to 127.0.0.1:x - </dev/null >"$work/out" 2>&1; check "submit with a bad address" 2 $?

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
assert all(e["cid"] == "cli-1" and e["v"] == 2 for e in events)
assert len(events[0]["definition"]) == 64 and int(events[0]["definition"], 16) >= 0
PY
"$nexus" events "$(printf 'bad\nid')" --data-dir "$data" >"$work/out" 2>&1; check "events bad id" 2 $?
contains "bad id shown escaped" "$work/out" '"bad\x0aid"'
"$nexus" events never-ran --data-dir "$data" >"$work/out" 2>&1; check "events unknown saga" 1 $?
"$nexus" sagas --data-dir "$data" --json >"$work/sagas.jsonl" 2>&1; check "sagas --json" 0 $?
[ "$(wc -l <"$work/sagas.jsonl")" -eq 51 ]; check "sagas lists every saga" 0 $?
"$nexus" sagas --data-dir "$work/none" >"$work/out" 2>&1; check "sagas without a log" 1 $?

# The table, newest first, limited; JSON lines; colours on a terminal only, never with NO_COLOR.
"$nexus" sagas --data-dir "$data" >"$work/table" 2>&1; check "sagas table" 0 $?
[ "$(wc -l <"$work/table")" -eq 52 ]; check "the table has a header and a row per saga" 0 $?
head -1 "$work/table" >"$work/header"
for col in "CORRELATION ID" SAGA STATUS STEPS "LAST EVENT" AGE; do
  contains "the table has a $col column" "$work/header" "$col"
done
contains "the table shows cli-1" "$work/table" "cli-1"
if grep -q $'\x1b' "$work/table"; then echo "FAIL: colours in a table that is not on a terminal"; failures=$((failures + 1)); else passed=$((passed + 1)); fi
"$nexus" sagas --data-dir "$data" --limit 3 >"$work/out" 2>&1; check "sagas --limit" 0 $?
[ "$(wc -l <"$work/out")" -eq 4 ]; check "--limit 3 shows three rows" 0 $?
sed -n 2p "$work/out" >"$work/newest"
contains "the newest saga (cli-1, started last) comes first" "$work/newest" "cli-1"
python3 - "$work/sagas.jsonl" <<'PY' || { echo "FAIL: sagas --json fields and order"; failures=$((failures + 1)); }
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all(r["last_event"].startswith("saga_") and r["age_s"] >= 0 for r in rows), rows[0]
assert [r["started"] for r in rows] == sorted((r["started"] for r in rows), reverse=True)
assert rows[0]["cid"] == "cli-1"
PY
if script -qec true /dev/null >/dev/null 2>&1; then
  script -qec "'$nexus' sagas --data-dir '$data' --limit 3" /dev/null >"$work/tty" 2>&1
  if grep -q $'\x1b\[3[1-6]m' "$work/tty"; then passed=$((passed + 1)); else echo "FAIL: no colours on a terminal"; failures=$((failures + 1)); fi
  NO_COLOR=1 script -qec "'$nexus' sagas --data-dir '$data' --limit 3" /dev/null >"$work/tty" 2>&1
  if grep -q $'\x1b' "$work/tty"; then echo "FAIL: colours with NO_COLOR set"; failures=$((failures + 1)); else passed=$((passed + 1)); fi
fi

# A readable timeline.
"$nexus" events cli-1 --data-dir "$data" >"$work/out" 2>&1; check "events timeline" 0 $?
contains "the timeline names its saga and its definition" "$work/out" "saga cli-1 (order), definition "
contains "the timeline starts at +0.000s" "$work/out" "+0.000s    saga_started"
contains "the timeline shows the input" "$work/out" 'input {"sku":"x"}'
contains "the timeline shows attempts" "$work/out" "reserve #1"

# stats: counts by status, events, and per step figures from the log.
"$nexus" stats --data-dir "$data" >"$work/out" 2>&1; check "stats" 0 $?
for text in "sagas   51" "events  " "STEP" "ATTEMPTS" "SUCCESS" "P50" "P90" "P99" "order/reserve"; do
  contains "stats shows $text" "$work/out" "$text"
done
"$nexus" stats --data-dir "$data" --json >"$work/stats.json" 2>&1; check "stats --json" 0 $?
python3 - "$work/stats.json" "$work/sagas.jsonl" <<'PY' || { echo "FAIL: stats --json"; failures=$((failures + 1)); }
import json, sys
s = json.loads(open(sys.argv[1]).read())
rows = [json.loads(l) for l in open(sys.argv[2])]
assert s["sagas"]["total"] == 51 == len(rows)
for status in ("completed", "compensated", "failed", "cancelled"):
    assert s["sagas"][status] == sum(r["status"] == status for r in rows), status
assert s["events"] >= sum(r["last_seq"] for r in rows)
steps = {(x["step"], x["compensation"]): x for x in s["steps"]}
reserve = steps[("reserve", False)]
assert reserve["attempts"] >= 51  # every saga starts with it
for x in s["steps"]:
    assert x["succeeded"] + x["failed"] + x["refused"] <= x["attempts"], x
    lat = x["latency_ms"]
    assert 0 <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"] * 1.02, x
    assert abs(x["success_rate"] + x["failure_rate"] - 100) < 1e-3 or x["succeeded"] + x["failed"] == 0
PY
"$nexus" stats --data-dir "$work/none" >"$work/out" 2>&1; check "stats without a log" 1 $?

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

# Readers work while a run writes, which flushes its memtables, deletes
# their WAL files and compacts meanwhile: a reader that found a file named
# and then gone failed (one open in thirty to ninety, during a busy run), so
# the log is read again and again until the run ends (40 reads at most; a
# read opens the log and replays its WAL, about 0.2 s). (60,000 sagas last
# about three seconds in a plain build; under a sanitizer, that many take
# minutes: 2,000 do.)
busy=60000
[ -n "${NEXUS_SANITIZED:-}" ] && busy=2000
"$nexus" run "$src/examples/order.json" --generate "$busy" --saga order --data-dir "$work/busy" \
  >/dev/null 2>&1 &
writer=$!
for _ in $(seq 1 300); do [ -e "$work/busy/CURRENT" ] && break; sleep 0.05; done
"$nexus" sagas --data-dir "$work/busy" --json >"$work/busy.jsonl" 2>"$work/out"; check "sagas during a run" 0 $?
cid=$(head -1 "$work/busy.jsonl" | python3 -c 'import json,sys; l=sys.stdin.readline(); print(json.loads(l)["cid"] if l else "none")')
if [ "$cid" != none ]; then
  reads=0
  failed=0
  while kill -0 "$writer" 2>/dev/null && [ "$reads" -lt 40 ]; do
    reads=$((reads + 1))
    "$nexus" events "$cid" --data-dir "$work/busy" >"$work/read" 2>&1 \
      || { failed=$((failed + 1)); cp "$work/read" "$work/out"; }
  done
  [ "$failed" -eq 0 ]; check "events during a run ($failed of $reads reads failed)" 0 $?
fi
wait "$writer"; check "the busy run ends well" 0 $?

finish
