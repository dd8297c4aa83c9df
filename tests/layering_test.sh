#!/usr/bin/env bash
# Checks the dependency rules of the codemap by reading includes:
#   config/, storage/ and runtime/ include no CAF, and nexus_runtime links
#   none; only storage/ includes RocksDB;
#   no layer includes a layer above it (config <- storage <- runtime <- actors
#   <- bench <- app; bench/ uses app/'s console helpers); benchmark code lives
#   in bench/ only.
set -u
cd "$1" || exit 2
failures=0
passed=0
forbid() { # forbid FOLDER PATTERN WHY
  hits=$(grep -rnE "#include [<\"]($2)" "$1" --include='*.hpp' --include='*.cpp' || true)
  if [ -n "$hits" ]; then echo "FAIL: $3:"; echo "$hits"; failures=$((failures + 1));
  else passed=$((passed + 1)); fi
}
forbid config  'caf/|rocksdb/|storage/|runtime/|actors/|bench/|app/' "config/ includes CAF, RocksDB or a higher layer"
forbid storage 'caf/|runtime/|actors/|bench/|app/'                 "storage/ includes CAF or a higher layer"
forbid runtime 'caf/|rocksdb/|actors/|bench/|app/'                 "runtime/ includes CAF, RocksDB or a higher layer"
forbid actors  'rocksdb/|bench/|app/'                              "actors/ includes RocksDB, bench/ or app/"
forbid app     'rocksdb/'                                   "app/ includes RocksDB"
# The pure cores build without CAF: nexus_runtime names no CAF target.
if grep -q 'CAF::' runtime/CMakeLists.txt; then echo "FAIL: nexus_runtime links CAF"; failures=$((failures + 1));
else passed=$((passed + 1)); fi
# The saga machine knows events, not the log that stores them.
if grep -q 'storage/event_log.hpp' runtime/saga_machine.hpp; then
  echo "FAIL: runtime/saga_machine.hpp includes the event log's header"; failures=$((failures + 1));
else passed=$((passed + 1)); fi
# CLI11 is a heavy header: only the command line (app/main.cpp) includes it.
hits=$(grep -rlE '#include <CLI/' --include='*.hpp' --include='*.cpp' . | grep -v '^./app/main.cpp$' | grep -v '^./build' || true)
if [ -n "$hits" ]; then echo "FAIL: CLI11 outside app/main.cpp: $hits"; failures=$((failures + 1));
else passed=$((passed + 1)); fi
# The harness and raw baselines of nexus bench sit in bench/, not in a product library.
hits=$(ls config/*bench* config/raw_* storage/*bench* storage/raw_* runtime/*bench* runtime/raw_* \
          actors/*bench* actors/raw_* app/*bench* app/raw_* 2>/dev/null || true)
if [ -n "$hits" ]; then echo "FAIL: benchmark code in a product folder: $hits"; failures=$((failures + 1));
else passed=$((passed + 1)); fi
# RocksDB: storage/*.cpp, and bench/raw_writes.cpp, the plain loop it is measured against.
hits=$(grep -lE '#include <rocksdb/' bench/*.cpp bench/*.hpp 2>/dev/null | grep -v '^bench/raw_writes.cpp$' || true)
if [ -n "$hits" ]; then echo "FAIL: RocksDB in bench/ beyond its raw baseline: $hits"; failures=$((failures + 1));
else passed=$((passed + 1)); fi
# Only storage/*.cpp may include RocksDB; of its headers only the private
# *_impl.hpp, which nothing outside storage/ includes.
hits=$(grep -lE '#include <rocksdb/' storage/*.hpp 2>/dev/null | grep -v '_impl\.hpp$' || true)
if [ -n "$hits" ]; then echo "FAIL: RocksDB in a public storage header: $hits"; failures=$((failures + 1));
else passed=$((passed + 1)); fi
hits=$(grep -rlE '#include "storage/[a-z_]*_impl\.hpp"' --include='*.cpp' --include='*.hpp' \
         config runtime actors bench app tests 2>/dev/null || true)
if [ -n "$hits" ]; then echo "FAIL: storage's private header outside storage/: $hits"; failures=$((failures + 1));
else passed=$((passed + 1)); fi
# Answers go through CAF's promises and delegation, never hand-built mailbox elements.
hits=$(grep -rl 'make_mailbox_element' actors app 2>/dev/null || true)
if [ -n "$hits" ]; then echo "FAIL: a hand-built mailbox element: $hits"; failures=$((failures + 1));
else passed=$((passed + 1)); fi
# The actors that others address have typed interfaces (a wrong message does not compile).
for iface in 'using stage_actor =:actors/stage.hpp' 'using breaker_actor =:actors/breaker_actor.hpp' \
             'using coordinator_actor =:actors/coordinator.hpp' 'using log_writer =:actors/event_log_writer.hpp' \
             'using input_reader =:actors/input_reader.hpp' 'using cluster_dispatcher =:actors/cluster/dispatcher.hpp'; do
  if grep -q "${iface%%:*}" "${iface#*:}"; then passed=$((passed + 1));
  else echo "FAIL: no typed interface '${iface%%:*}' in ${iface#*:}"; failures=$((failures + 1)); fi
done
echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
