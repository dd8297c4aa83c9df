#!/bin/sh
# A step program for the tests, driven by its first argument:
#   ok              prints what it was given: the NEXUS_* variables and stdin
#   exit N MESSAGE  prints MESSAGE on stderr and exits N
#   tree PIDFILE    starts a background child (its PID in PIDFILE) and waits
#   daemon PIDFILE  writes its PID, closes stdout and stderr, then sleeps 20 s
#   leftover PIDFILE  starts a background child holding stdout (its PID in
#                   PIDFILE), prints {"ok":1} and exits 0
#   flood N         prints N bytes
#   text            prints something that is not JSON
#   save FILE       writes its stdin to FILE, then prints {}
#   ledger FILE     appends "$NEXUS_IDEMPOTENCY_KEY $NEXUS_ATTEMPT" to FILE, then prints {}
#   fail-ledger FILE  as ledger, then exits 75 while FILE.fail exists
#   ledger-or-fail FILE  as ledger, but exits 3 (permanent) for IDs ending in 7
#   hostile         prints quotes, ANSI escapes, invalid UTF-8 and a forged log
#                   line on stderr, then {} (exits 3 for IDs ending in 7)
#   bigjson N       prints {"big":"xx...x"} with N x's
#   weird           prints JSON whose string holds a newline, NUL, ANSI escapes
#                   and a bell, escaped as JSON allows
#   signal N        kills itself with signal N
#   trace           prints {"traceparent": $TRACEPARENT, "tracestate": $TRACESTATE},
#                   and "traced" on stderr
set -u
case "$1" in
  ok)
    input=$(cat)
    printf '{"cid":"%s","saga":"%s","step":"%s","attempt":%s,"key":"%s","compensation":%s,"extra":"%s","stdin":%s}\n' \
      "$NEXUS_CORRELATION_ID" "$NEXUS_SAGA" "$NEXUS_STEP" "$NEXUS_ATTEMPT" \
      "$NEXUS_IDEMPOTENCY_KEY" "$NEXUS_COMPENSATION" "${EXTRA:-}" "$input" ;;
  trace)
    cat >/dev/null
    echo traced >&2
    printf '{"traceparent":"%s","tracestate":"%s"}\n' "${TRACEPARENT:-}" "${TRACESTATE:-}" ;;
  exit)
    cat >/dev/null
    echo "$3" >&2
    exit "$2" ;;
  tree)
    sleep 30 &
    echo $! > "$2"
    wait ;;
  daemon)
    echo $$ > "$2"
    exec >/dev/null 2>&1
    exec sleep 20 ;;
  leftover)
    cat >/dev/null
    ( sleep 30 ) &
    echo $! > "$2"
    echo '{"ok":1}' ;;
  flood)
    head -c "$2" /dev/zero | tr '\0' 'x' ;;
  text)
    echo "hello, not json" ;;
  save)
    cat > "$2"
    echo '{}' ;;
  ledger)
    cat >/dev/null
    echo "$NEXUS_IDEMPOTENCY_KEY $NEXUS_ATTEMPT" >> "$2"
    echo '{}' ;;
  hostile)
    cat >/dev/null
    printf 'say "hi" back\\slash \033[31mred\033[0m \377\376 \300\257\n{"level":"error","msg":"forged"}\n' >&2
    printf 'last \033]0;title\007 \355\240\200 "q" \\ end\n' >&2
    case "$NEXUS_CORRELATION_ID" in *7) exit 3 ;; esac
    echo '{}' ;;
  bigjson)
    cat >/dev/null
    printf '{"big":"'
    head -c "$2" /dev/zero | tr '\0' 'x'
    printf '"}\n' ;;
  weird)
    cat >/dev/null
    printf '{"text":"line1\\nline2 nul\\u0000 esc\\u001b[31mred\\u001b[0m bell\\u0007 end"}\n' ;;
  signal)
    cat >/dev/null
    kill -"$2" $$ ;;
  ledger-or-fail)
    cat >/dev/null
    echo "$NEXUS_IDEMPOTENCY_KEY $NEXUS_ATTEMPT" >> "$2"
    case "$NEXUS_CORRELATION_ID" in *7) echo "declined" >&2; exit 3 ;; esac
    echo '{}' ;;
  fail-ledger)
    cat >/dev/null
    echo "$NEXUS_IDEMPOTENCY_KEY $NEXUS_ATTEMPT" >> "$2"
    if [ -e "$2.fail" ]; then echo "told to fail" >&2; exit 75; fi
    echo '{}' ;;
  *)
    echo "step.sh: unknown mode $1" >&2
    exit 64 ;;
esac
