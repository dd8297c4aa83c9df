#!/usr/bin/env bash
# scripts/package makes nexus_<version>_amd64.deb (lintian finds no error);
# it installs with dpkg -i on this machine, its unit passes systemd-analyze
# verify, the installed nexus runs the installed example workflow as the
# nexus user, the unit's own command line serves a saga over HTTP and stops
# gracefully on SIGTERM; then dpkg -r keeps the workflow and the data, and
# dpkg --purge leaves nothing of the package behind.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR (as root; skipped otherwise)
set -u
build=$1
src=$2
if [ "$(id -u)" != 0 ]; then
  echo "skipped: installing a package needs root"
  exit 77
fi
if [ "$(dpkg-query -W -f='${Status}' nexus 2>/dev/null)" = "install ok installed" ]; then
  echo "skipped: a nexus package is installed on this machine already; the test leaves it be"
  exit 77
fi
work=$(mktemp -d)
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill -KILL "$serve_pid" 2>/dev/null
  dpkg --purge nexus >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
. "$src/tests/app/checks.sh"

deb=$(NEXUS_BUILD_DIR="$build" "$src/scripts/package" 2>"$work/package.log")
check "scripts/package (lintian: no error)" 0 $?
[ -f "$deb" ] || { sed 's/^/  | /' "$work/package.log"; finish; exit 1; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ "$(basename "$deb")" = "nexus_${version}_amd64.deb" ]
check "the package is named nexus_${version}_amd64.deb" 0 $?

dpkg-deb -f "$deb" Depends >"$work/depends"
for dep in adduser libcaf-core0.17 librocksdb7.8 libspdlog libcurl4 libc6; do
  contains "Depends names $dep (dpkg-shlibdeps)" "$work/depends" "$dep"
done
dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/bin/nexus ./lib/systemd/system/nexus.service ./etc/nexus/workflow.json \
         ./usr/share/man/man1/nexus.1.gz ./usr/share/doc/nexus/copyright \
         ./usr/share/doc/nexus/changelog.gz; do
  contains "the package holds $f" "$work/contents" " $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$work/conffiles"
contains "the workflow is a conffile" "$work/conffiles" "/etc/nexus/workflow.json"

dpkg -i "$deb" >"$work/install.log" 2>&1
check "dpkg -i" 0 $?
/usr/bin/nexus --version >"$work/version" 2>&1
check "the installed nexus --version" 0 $?
contains "it names the release and the commit" "$work/version" "nexus $version (commit "
getent passwd nexus >/dev/null
check "the nexus system user is made" 0 $?
[ "$(stat -c %U "/var/lib/nexus")" = nexus ]
check "/var/lib/nexus belongs to nexus" 0 $?
systemd-analyze verify /lib/systemd/system/nexus.service >"$work/verify" 2>&1
check "systemd-analyze verify accepts the unit" 0 $?
[ -s "$work/verify" ] && sed 's/^/  | /' "$work/verify"
zcat /usr/share/man/man1/nexus.1.gz >"$work/manual"
contains "the manual lists the commands" "$work/manual" "serve"
contains "the manual says where the files are" "$work/manual" "/var/lib/nexus"

# The example workflow, from the installed paths, as the service's user.
setpriv --reuid nexus --regid nexus --init-groups /usr/bin/nexus run /etc/nexus/workflow.json --generate 20 --saga order \
  --data-dir /var/lib/nexus/example --json --no-progress >"$work/run.json" 2>"$work/run.err"
check "nexus run /etc/nexus/workflow.json as nexus" 0 $?
python3 - "$work/run.json" <<'PY'
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
ended = s["completed"] + s["compensated"] + s["failed"]
assert s["started"] == 20 and ended == 20, s
PY
check "its 20 sagas all ended" 0 $?

# The unit's command line, as systemd would run it (its user, its directory).
command=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/nexus.service)
directory=$(sed -n 's/^WorkingDirectory=//p' /lib/systemd/system/nexus.service)
if python3 -c 'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 7701))' 2>/dev/null; then
  # shellcheck disable=SC2086 # the unit's words, split as systemd splits them
  (cd "$directory" && exec setpriv --reuid nexus --regid nexus --init-groups $command) >"$work/serve.out" 2>"$work/serve.err" &
  serve_pid=$!
  python3 - "$work/serve.err" <<'PY'
import json, sys, time, urllib.request
deadline = time.monotonic() + 60
while "http listening on" not in open(sys.argv[1]).read():
    assert time.monotonic() < deadline, "nexus serve did not listen within 60 s"
    time.sleep(0.05)
body = json.dumps({"correlation_id": "svc-1", "input": {"sku": "A-7"}}).encode()
req = urllib.request.Request("http://127.0.0.1:7701/v1/sagas/order", data=body,
                             headers={"Content-Type": "application/json"})
assert urllib.request.urlopen(req, timeout=30).status == 201
with urllib.request.urlopen("http://127.0.0.1:7701/v1/sagas/svc-1?wait=30", timeout=60) as r:
    status = json.load(r)["status"]
assert status in ("completed", "compensated"), status
PY
  check "the unit's nexus serve takes a saga over HTTP and runs it to its end" 0 $?
  kill -TERM "$serve_pid"
  wait "$serve_pid"
  check "SIGTERM stops it gracefully (exit 0)" 0 $?
  serve_pid=
  contains "on its way out it says what it ran" "$work/serve.out" "started 1, resumed 0"
  [ "$(stat -c %U /var/lib/nexus/logs/nexus.jsonl)" = nexus ]
  check "its log lines are in /var/lib/nexus/logs, the nexus user's" 0 $?
  contains "its log says it stopped taking sagas on SIGTERM" /var/lib/nexus/logs/nexus.jsonl \
    "SIGTERM: taking no more sagas"
else
  echo "FAIL: 127.0.0.1:7701, the unit's port, is taken on this machine"
  failures=$((failures + 1))
fi

dpkg -r nexus >"$work/remove.log" 2>&1
check "dpkg -r" 0 $?
[ ! -e /usr/bin/nexus ] && [ ! -e /lib/systemd/system/nexus.service ]
check "removed: the program and the unit are gone" 0 $?
[ -f /etc/nexus/workflow.json ] && [ -d /var/lib/nexus/example ]
check "removed: the workflow (a conffile) and the data stay" 0 $?
dpkg --purge nexus >"$work/purge.log" 2>&1
check "dpkg --purge" 0 $?
[ ! -e /etc/nexus ] && [ ! -e /var/lib/nexus ] \
  && [ ! -e /etc/systemd/system/multi-user.target.wants/nexus.service ]
check "purged: the workflow, the data and the unit's link are gone" 0 $?
[ "$(dpkg-query -W -f='${Status}' nexus 2>/dev/null)" != "install ok installed" ]
check "purged: dpkg knows no nexus installed" 0 $?

finish
