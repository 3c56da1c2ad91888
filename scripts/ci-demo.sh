#!/usr/bin/env bash
# CI: `make demo DEMO_SECONDS=20` exits 0, and its output shows an item loaded by the tree watch and one
# started by the queue (the demo's own end-to-end proof, run the way a user runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! make demo DEMO_SECONDS=20 >"$log" 2>&1; then
    cat "$log"
    echo "ci-demo: make demo failed" >&2
    exit 1
fi
fail=0
grep -Eq "INFO +Loaded 'demo-[A-Za-z0-9_-]+' from " "$log" || { echo "ci-demo: no item loaded by the tree watch" >&2; fail=1; }
grep -Eq "INFO +Starting 'demo-[A-Za-z0-9_-]+'" "$log" || { echo "ci-demo: no item started by the queue" >&2; fail=1; }
grep -q "demo | done, everything stopped" "$log" || { echo "ci-demo: the demo did not say it stopped everything" >&2; fail=1; }
if [ "$fail" -ne 0 ]; then
    cat "$log"
    exit 1
fi
echo "ci-demo: make demo DEMO_SECONDS=20 ok (loaded by the tree watch, started by the queue, all stopped)"
