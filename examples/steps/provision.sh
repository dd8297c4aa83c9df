#!/bin/sh
# A provisioning step for examples/provision.json: `provision.sh ACTION`.
# Reads the step's JSON on stdin, prints its output JSON. To show retries
# and compensation: attempt 1 of any step is busy (exit 75, retried) for
# sagas whose ID ends in 3, and DNS is refused (exit 2) for IDs ending in 9.
set -eu
input=$(cat)
id="$NEXUS_CORRELATION_ID"
case "$1:$NEXUS_ATTEMPT:$id" in
  *:1:*3) echo "$1: busy, try again" >&2; exit 75 ;;
  dns:*:*9) echo "dns: zone refuses $id" >&2; exit 2 ;;
esac
case "$1" in
  vm)       printf '{"vm":"vm-%s"}\n' "$id" ;;
  disk)     printf '{"disk":"disk-%s"}\n' "$id" ;;
  dns)      printf '{"record":"%s.example.internal"}\n' "$id" ;;
  undo-*)   # what to undo is in "output", the step's own output
            printf '{"released":%s}\n' "$(printf '%s' "$input" | sed 's/.*"output"://; s/}$//')" ;;
  *)        echo "provision.sh: unknown action $1" >&2; exit 64 ;;
esac
