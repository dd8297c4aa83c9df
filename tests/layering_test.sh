#!/usr/bin/env bash
# Checks the dependency rules of the codemap by reading includes:
#   config/ and storage/ include no CAF; only storage/ includes RocksDB;
#   no layer includes a layer above it (config <- storage <- runtime <- actors <- app).
set -u
cd "$1" || exit 2
failures=0
passed=0
forbid() { # forbid FOLDER PATTERN WHY
  hits=$(grep -rnE "#include [<\"]($2)" "$1" --include='*.hpp' --include='*.cpp' || true)
  if [ -n "$hits" ]; then echo "FAIL: $3:"; echo "$hits"; failures=$((failures + 1));
  else passed=$((passed + 1)); fi
}
forbid config  'caf/|rocksdb/|storage/|runtime/|actors/|app/' "config/ includes CAF, RocksDB or a higher layer"
forbid storage 'caf/|runtime/|actors/|app/'                 "storage/ includes CAF or a higher layer"
forbid runtime 'rocksdb/|actors/|app/'                      "runtime/ includes RocksDB or a higher layer"
forbid actors  'rocksdb/|app/'                              "actors/ includes RocksDB or app/"
forbid app     'rocksdb/'                                   "app/ includes RocksDB"
# Only storage/*.cpp may include RocksDB, never a header.
hits=$(grep -lE '#include <rocksdb/' storage/*.hpp 2>/dev/null || true)
if [ -n "$hits" ]; then echo "FAIL: RocksDB in a storage header: $hits"; failures=$((failures + 1));
else passed=$((passed + 1)); fi
echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
