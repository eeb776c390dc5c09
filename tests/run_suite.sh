#!/usr/bin/env bash
# The whole suite as `make test` runs it, on 2 cores, in two lanes:
#   lane 1: the broker tier, the image and package builds (tests marked serial but not
#           faults), one after another in one pytest session;
#   lane 2: everything else (not serial) in a second session, then the fault tier
#           (marked faults: its own Apache Kafka per module and three-node clusters).
# Marks are set by tests/conftest.py. Each lane keeps a busy core beside the other, as
# the broker and fault tests must hold up on a busy machine. Each session has its own
# temporary directory; lane 2's reports are printed after lane 1's.
# Usage: tests/run_suite.sh [DIR WITH pytest] [PYTEST ARGS...]
set -u
bin=${1:-.venv/bin}
shift || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { [ "$1" -eq 0 ] || [ "$1" -eq 5 ]; }  # 5: the arguments selected none of a lane
(
  "$bin/pytest" -m "not serial" --basetemp="$tmp/side" "$@" > "$tmp/side.log" 2>&1
  echo $? > "$tmp/side.rc"
  "$bin/pytest" -m "serial and faults" --basetemp="$tmp/faults" "$@" > "$tmp/faults.log" 2>&1
  echo $? > "$tmp/faults.rc"
) &
lane2=$!
"$bin/pytest" -m "serial and not faults" --basetemp="$tmp/serial" "$@"
serial=$?
wait "$lane2"
echo
echo "=== beside them: the tests not marked serial ==="
cat "$tmp/side.log"
echo
echo "=== then the fault tier ==="
cat "$tmp/faults.log"
ok "$serial" && ok "$(cat "$tmp/side.rc")" && ok "$(cat "$tmp/faults.rc")"
