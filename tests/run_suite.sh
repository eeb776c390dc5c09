#!/usr/bin/env bash
# The whole suite as `make test` runs it, on 2 cores: the tests marked serial by
# tests/conftest.py (the embedded broker and its workers, package builds) one after
# another in one pytest session, everything else in a second session beside it. Each has
# its own temporary directory; the side session's report is printed after the serial one.
# Usage: tests/run_suite.sh [DIR WITH pytest] [PYTEST ARGS...]
set -u
bin=${1:-.venv/bin}
shift || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin/pytest" -m "not serial" --basetemp="$tmp/side" "$@" > "$tmp/side.log" 2>&1 &
side=$!
"$bin/pytest" -m serial --basetemp="$tmp/serial" "$@"
serial=$?
wait "$side"
other=$?
echo
echo "=== the tests beside them (not serial) ==="
cat "$tmp/side.log"
[ "$serial" -eq 0 ] && [ "$other" -eq 0 ]
