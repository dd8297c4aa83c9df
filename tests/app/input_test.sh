#!/usr/bin/env bash
# Input from standard input, bad lines under --on-bad-input stop|skip, and
# the progress bar: drawn on a terminal, never into a file or a pipe.
# Usage: input_test.sh NEXUS_BINARY SOURCE_DIR
set -u
nexus=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/checks.sh"
wf="$src/examples/order.json"

# Standard input, read as it comes.
printf '{"saga":"order","correlation_id":"in-1"}\n{"saga":"order","correlation_id":"in-2"}\n' |
  "$nexus" run "$wf" --input - --data-dir "$work/stdin" --json >"$work/out" 2>"$work/err"
check "run from stdin" 0 $?
contains "both started" "$work/out" '"started":2'

# A pipe that stays quiet for a while before its lines: nothing is lost.
{ sleep 0.3; printf '{"saga":"order","correlation_id":"late-1"}\n'; } |
  "$nexus" run "$wf" --input - --data-dir "$work/quiet" --json >"$work/out" 2>"$work/err"
check "run from a quiet pipe" 0 $?
contains "the late line started" "$work/out" '"started":1'

# A file an editor began with a UTF-8 byte-order mark, and a workflow file too: read past it.
printf '\357\273\277{"saga":"order","correlation_id":"bom-1"}\n{"saga":"order","correlation_id":"bom-2"}\n' \
  >"$work/bom.jsonl"
{ printf '\357\273\277'; cat "$wf"; } >"$work/bom-wf.json"
"$nexus" run "$work/bom-wf.json" --input "$work/bom.jsonl" --data-dir "$work/bom" --json \
  >"$work/out" 2>"$work/err"
check "a byte-order mark before the first line and the workflow" 0 $?
contains "both lines started" "$work/out" '"started":2'
"$nexus" events bom-1 --data-dir "$work/bom" >/dev/null 2>&1; check "the first line kept its ID" 0 $?

cat >"$work/mixed.jsonl" <<'JSONL'
{"saga":"order","correlation_id":"ok-1"}
{"saga":"order", oops
{"saga":"nope","correlation_id":"ok-2"}
{"saga":"order","correlation_id":"bad id"}
{"saga":"order","correlation_id":"ok-3"}
JSONL
# stop (the default): exit 2 at line 2, what came before is run, nothing after.
"$nexus" run "$wf" --input "$work/mixed.jsonl" --data-dir "$work/stop" --json >"$work/out" 2>"$work/err"
check "a bad line stops the run" 2 $?
contains "names the line" "$work/err" "mixed.jsonl:2: invalid JSON"
"$nexus" events ok-1 --data-dir "$work/stop" >/dev/null 2>&1; check "the line before it ran" 0 $?
"$nexus" events ok-3 --data-dir "$work/stop" >/dev/null 2>&1; check "no line after it ran" 1 $?

# skip: each bad line is logged with its number, the rest run.
"$nexus" run "$wf" --input "$work/mixed.jsonl" --data-dir "$work/skip" --on-bad-input skip --json \
  >"$work/out" 2>"$work/err"
check "bad lines skipped" 0 $?
contains "good lines started" "$work/out" '"started":2'
contains "three skipped" "$work/out" '"skipped":3'
contains "line 2 named" "$work/err" "mixed.jsonl:2:"
contains "unknown saga named with its line" "$work/err" 'line 3: input names saga "nope"'
contains "bad ID named with its line" "$work/err" "mixed.jsonl:4:"
"$nexus" run "$wf" --input "$work/mixed.jsonl" --on-bad-input maybe >"$work/out" 2>&1
check "an unknown policy is refused" 2 $?

# The progress bar: on a terminal (script gives the run one) it is drawn...
script -qfec "$nexus run $wf --generate 3000 --saga order --data-dir $work/tty" /dev/null \
  >"$work/tty.out" 2>&1
check "run on a terminal" 0 $?
contains "a bar is drawn" "$work/tty.out" "sagas/s"
# ...but not with --no-progress, nor when stderr is not a terminal.
script -qfec "$nexus run $wf --generate 3000 --saga order --data-dir $work/tty2 --no-progress" \
  /dev/null >"$work/tty2.out" 2>&1
if grep -q "sagas/s ETA" "$work/tty2.out"; then echo "FAIL: a bar despite --no-progress"; failures=$((failures + 1)); else passed=$((passed + 1)); fi
"$nexus" run "$wf" --generate 3000 --saga order --data-dir "$work/file" >"$work/file.out" 2>"$work/file.err"
if grep -q $'\r' "$work/file.err" "$work/file.out"; then echo "FAIL: a bar drawn into a file"; failures=$((failures + 1)); else passed=$((passed + 1)); fi

finish
