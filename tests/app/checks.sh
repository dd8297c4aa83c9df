# Sourced by the shell tests: counts checks, prints each failure.
# check NAME EXPECTED_STATUS ACTUAL_STATUS; contains NAME FILE TEXT;
# finish (prints "N passed, N failed" and sets the exit status).
failures=0
passed=0
check() {
  if [ "$2" = "$3" ]; then passed=$((passed + 1)); else
    echo "FAIL: $1: expected exit $2, got $3"; failures=$((failures + 1))
    # Most commands checked write to $work/out: what it said, for the log.
    if [ -n "${work:-}" ] && [ -s "$work/out" ]; then tail -5 "$work/out" | sed 's/^/  | /'; fi
  fi
}
contains() {
  if grep -qF -- "$3" "$2"; then passed=$((passed + 1)); else
    echo "FAIL: $1: '$3' not in:"; sed 's/^/  | /' "$2"; failures=$((failures + 1)); fi
}
finish() {
  echo "$passed passed, $failures failed"
  [ "$failures" -eq 0 ]
}
