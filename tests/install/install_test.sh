#!/usr/bin/env bash
# `cmake --install` into a scratch prefix, then a program that embeds Nexus
# as the README shows, built out of the source tree against that prefix
# only (find_package(Nexus 0.2)), run, and its sagas' ends read back from
# its log with the installed nexus.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$src/tests/app/checks.sh"
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1
check "cmake --install" 0 $?
for f in bin/nexus lib/libnexus_actors.a lib/libnexus_runtime.a lib/libnexus_storage.a \
         lib/libnexus_config.a include/nexus/actors/engine.hpp \
         include/nexus/config/workflow_loader.hpp include/nexus/runtime/step_context.hpp \
         lib/cmake/Nexus/NexusConfig.cmake lib/cmake/Nexus/NexusConfigVersion.cmake \
         lib/cmake/Nexus/NexusTargets.cmake lib/cmake/Nexus/FindCAF.cmake \
         lib/systemd/system/nexus.service etc/nexus/workflow.json share/man/man1/nexus.1.gz \
         share/doc/nexus/copyright; do
  [ -f "$prefix/$f" ]; check "installed $f" 0 $?
done
# The public headers only: none brings CAF's or RocksDB's in.
grep -rlE '#include *[<"](rocksdb|caf)/' "$prefix/include" >"$work/heavy"
[ ! -s "$work/heavy" ]; check "no installed header includes CAF or RocksDB" 0 $?
# The unit names what was installed, where it was installed.
contains "the unit runs the installed program on the installed workflow" \
  "$prefix/lib/systemd/system/nexus.service" \
  "ExecStart=$prefix/bin/nexus serve $prefix/etc/nexus/workflow.json --http 127.0.0.1:7701 --data-dir $prefix/var/lib/nexus"

# A user's project: a copy of tests/install/embed, nothing else of the tree.
cp -r "$src/tests/install/embed" "$work/project"
cmake -S "$work/project" -B "$work/project-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" 2>&1
check "find_package(Nexus 0.2 CONFIG REQUIRED) finds the prefix" 0 $?
[ $? -eq 0 ] || cat "$work/configure.log"
grep -q -- "-I$src\|$src/" "$work/project-build/build.ninja"
check "the project's build names nothing in the source tree" 1 $?
cmake --build "$work/project-build" >"$work/build.log" 2>&1
check "the embedding program builds against the prefix" 0 $?
[ $? -eq 0 ] || tail -n 40 "$work/build.log"

"$work/project-build/embed" "$work/project/workflow.json" "$work/data" >"$work/out" 2>&1
check "the embedding program runs" 0 $?
contains "start() answers started once durable" "$work/out" "start ord-1 1"
contains "start() of a waiting saga" "$work/out" "start hold-1 1"
contains "cancel() answers cancelling" "$work/out" "cancel hold-1 1"
contains "cancel() of an unknown ID answers unknown" "$work/out" "cancel nobody 1"
contains "start_async() tells the end" "$work/out" "async ord-2:started:completed"
contains "wait() counts the completed" "$work/out" "completed 2"
contains "wait() counts the cancelled" "$work/out" "cancelled 1"

# The ends, as the installed nexus reads them from the program's log.
"$prefix/bin/nexus" sagas --data-dir "$work/data" --json >"$work/sagas" 2>&1
check "nexus sagas reads the program's log" 0 $?
python3 - "$work/sagas" >"$work/ends" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    row = json.loads(line)
    print(row["cid"], row["status"])
PY
sort "$work/ends" >"$work/ends.sorted"
printf 'hold-1 cancelled\nord-1 completed\nord-2 completed\n' >"$work/expected"
cmp -s "$work/ends.sorted" "$work/expected"
check "the log holds ord-1 and ord-2 completed, hold-1 cancelled" 0 $?
[ $? -eq 0 ] || { echo "  got:"; sed 's/^/  | /' "$work/ends.sorted"; }
"$prefix/bin/nexus" events ord-1 --data-dir "$work/data" --json >"$work/events" 2>&1
contains "the registered handler's output is in the log" "$work/events" '"output":{"price":42,"cid":"ord-1"}'
python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import log_check; log_check.check(sys.argv[2])' \
  "$src/tests/tools" "$work/data" >"$work/log_check" 2>&1
check "the log's sequence numbers have no gap" 0 $?

# The version file: 0.2 takes 0.2.z, not another minor release.
for want in 0.1 0.3; do
  mkdir -p "$work/v$want"
  cat >"$work/v$want/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(v LANGUAGES CXX)
find_package(Nexus $want CONFIG REQUIRED)
CM
  cmake -S "$work/v$want" -B "$work/v$want/b" -DCMAKE_PREFIX_PATH="$prefix" >"$work/v.log" 2>&1
  check "find_package(Nexus $want) refuses release 0.2" 1 $?
done

finish
