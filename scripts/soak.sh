#!/usr/bin/env bash
# Runs the soak test (tests/all/soak.rs) over many seeds: rounds of edits on both sides, the
# runs they start spawned at once from old and shallow checkouts, some never started, then
# one catch-up reconcile that must converge everything. CI runs a few seeds; this runs more.
#
#   scripts/soak.sh [SEEDS [FIRST_SEED]]      e.g. scripts/soak.sh 200 1000
#
# SEEDS defaults to 100, FIRST_SEED to a random one (printed); SOAK_ROUNDS (default 4) sets the
# rounds per seed. A failure prints its seed and round log; replay one seed with
# `SOAK_SEED=n cargo test --test all soak:: -- --nocapture` (the edits and the runs' checkouts
# replay exactly; the order in which concurrent runs reach GitHub is the machine's).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds="${1:-100}"
first="${2:-$((RANDOM * 32768 + RANDOM))}"
case "$seeds$first" in
  *[!0-9]*) echo "soak: SEEDS and FIRST_SEED are numbers" >&2; exit 2 ;;
esac
command -v git >/dev/null || { echo "soak: git is missing" >&2; exit 1; }

echo "soak: seeds $first..$((first + seeds - 1)), ${SOAK_ROUNDS:-4} rounds each"
SOAK_SEEDS="$seeds" SOAK_FIRST_SEED="$first" \
  cargo test --locked --test all soak:: -- --nocapture
