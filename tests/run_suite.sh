#!/usr/bin/env bash
# The whole suite as `make test` runs it, on 2 cores, in two lanes of one pytest session
# after another. Lane 1: the tests marked serial by tests/conftest.py (the brokers and
# their workers, package builds) except the fault suite's, one at a time. Lane 2 beside
# it: everything that needs no broker, then the fault suite's serial tests one at a time.
# In one lane the serial tests took 28 of the suite's 29 minutes while the rest was done
# after 5 and left a core idle. Each session has its own temporary directory; lane 2's
# reports are printed after lane 1's.
# Usage: tests/run_suite.sh [DIR WITH pytest] [PYTEST ARGS...]
set -u
bin=${1:-.venv/bin}
shift || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(
  "$bin/pytest" -m "not serial" --basetemp="$tmp/side" "$@" > "$tmp/side.log" 2>&1
  echo $? > "$tmp/side.rc"
  "$bin/pytest" -m "serial and faults" --basetemp="$tmp/faults" "$@" > "$tmp/faults.log" 2>&1
  echo $? > "$tmp/faults.rc"
) &
lane=$!
"$bin/pytest" -m "serial and not faults" --basetemp="$tmp/serial" "$@"
serial=$?
wait "$lane"
echo
echo "=== beside them: the tests that need no broker ==="
cat "$tmp/side.log"
echo
echo "=== then the fault suite's ==="
cat "$tmp/faults.log"
narrowed=$#
side=$(cat "$tmp/side.rc")
faults=$(cat "$tmp/faults.rc")
for rc in "$serial" "$side" "$faults"; do
  # pytest exits 5 when it collects nothing: fine only in a run narrowed by PYTEST ARGS
  [ "$rc" -eq 0 ] || { [ "$rc" -eq 5 ] && [ "$narrowed" -gt 0 ]; } || exit 1
done
