#!/usr/bin/env bash
# Runs the convergence tests N times in a row (default 10) with a CPU hog on every core beside
# them, and prints how many runs passed. The tests: the SIGKILL crash test and the fault test
# (sync_crash), every named crash point (sync_crash_points), the replayed conflicts
# (sync_conflicts), the model test (sync_model), which takes fresh seeds each run, the
# draining stop (sync_stop), the recovery scenarios (sync::recovery) and the peer scenarios
# that once raced a node's own write (peer::both_ways, peer::attacks::takeover).
#
#   scripts/stress.sh [N]          STRESS_SEEDS sets the model seeds per run (300)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs="${1:-10}"
seeds="${STRESS_SEEDS:-300}"
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ]; then
  echo "usage: scripts/stress.sh [N]   (N runs, default 10)" >&2
  exit 2
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust with rustup (https://rustup.rs)" >&2
  exit 1
fi

scripts/build-rules.sh
cargo build -p twinsync
cargo test -p twinsync-e2e --test e2e --no-run

hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_hogs EXIT
cores="$(nproc 2>/dev/null || echo 2)"
for _ in $(seq "$cores"); do
  (while :; do :; done) &
  hogs+=("$!")
done
echo "stress: $runs runs, $seeds model seeds each, $cores CPU hogs running"

logs="$(mktemp -d)"
pass=0
fail=0
for i in $(seq "$runs"); do
  first=$(( (i - 1) * seeds + 1 ))
  log="$logs/run-$i.log"
  start=$(date +%s)
  if TWINSYNC_MODEL_FIRST="$first" TWINSYNC_MODEL_SEEDS="$seeds" \
     cargo test -q -p twinsync-e2e --test e2e -- \
       sync_crash sync_conflicts sync_model sync_stop sync::recovery peer::both_ways peer::attacks::takeover \
       >"$log" 2>&1; then
    pass=$((pass + 1))
    echo "run $i: pass ($(( $(date +%s) - start )) s, model seeds $first..$((first + seeds - 1)))"
  else
    fail=$((fail + 1))
    echo "run $i: FAIL ($(( $(date +%s) - start )) s, model seeds $first..$((first + seeds - 1))); log: $log"
    grep -E "panicked|seed [0-9]+ \(replay|did not converge|disagree" "$log" | head -5 || true
  fi
done
echo "stress: $pass of $runs runs passed, $fail failed"
[ "$fail" -eq 0 ]
