#!/usr/bin/env bash
# A bounded fuzz run of the front-matter reader and editor (and the project config reader):
# each target runs for SECONDS (default 60) from a seed corpus made of the real IntelliManage
# files and the edge cases in tests/fixtures/intellimanage, then the executions reached are
# printed. A crash stops the run with libFuzzer's report and the input under
# fuzz/artifacts/<target>/ (turn it into a test, then fix it).
#
#   scripts/fuzz.sh            # every target, 60 s each
#   scripts/fuzz.sh 300 edit   # one target, 5 minutes
#
# cargo-fuzz needs -Z flags (sanitizers, coverage passes) that only nightly rustc accepts.
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them; nothing else differs.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(read edit config merge)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
export RUSTC_BOOTSTRAP=1

# Seeds: the fixture files as they are (read), prefixed with an edit (edit), and configs.
corpus=fuzz/corpus
mkdir -p "$corpus/read" "$corpus/edit" "$corpus/config" "$corpus/merge"
mapfile -d '' fixtures < <(find tests/fixtures/intellimanage -name '*.md' ! -name README.md -print0 | sort -z)
i=0
for file in "${fixtures[@]}"; do
  i=$((i + 1))
  cp "$file" "$corpus/read/fixture-$i"
  # Edit header: byte 0 = edit (0 set, 1 remove, 2 Description), byte 1 = key index
  # (fuzz/src/lib.rs KEYS), byte 2 = value length, then the value.
  { printf '\x00\x01\x0cA new title!'; cat "$file"; } >"$corpus/edit/set-title-$i"
  { printf '\x00\x07\x29https://github.com/acme/plan/milestone/42'; cat "$file"; } >"$corpus/edit/set-link-$i"
  { printf '\x01\x05\x00'; cat "$file"; } >"$corpus/edit/remove-target-date-$i"
  { printf '\x02\x00\x16Line one.\r\nLine two.\n\n'; cat "$file"; } >"$corpus/edit/description-$i"
  # Merge: the file (as a body), NUL, then a text from GitHub.
  { cat "$file"; printf '\x00Added on GitHub.\r\n\r\nA second line.  \r\n'; } >"$corpus/merge/append-$i"
done
# Inputs that once failed, kept as seeds (their regression tests live in the main suite).
for dir in fuzz/seeds/*/; do
  cp "$dir"* "$corpus/$(basename "$dir")/"
done
cat >"$corpus/config/demo" <<'EOF'
custom_statuses = ["🚀 Shipped"]
[github_integration]
enable_sync = true
repo_owner = "acme"
repo_name = "plan"
conflict_resolution = "last_update_wins"
create_missing_milestones = true
[github_integration.mapping]
milestone_type = "🗺️ Epic"
sync_milestone_due_date = true
closed_status = "🟢 Done"
EOF

summary=()
for target in "${targets[@]}"; do
  echo "==> fuzz $target for ${seconds}s"
  mkdir -p fuzz/artifacts
  log="fuzz/artifacts/$target.log"
  # -max_len: artifacts are small; longer inputs only slow the search down.
  set +e
  cargo fuzz run "$target" "$corpus/$target" -- -max_total_time="$seconds" -max_len=16384 \
    -print_final_stats=1 >"$log" 2>&1
  status=$?
  set -e
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|Done [0-9]+ runs)' "$log" || true
  [ "$status" -eq 0 ] || tail -n 60 "$log"
  runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
  [ -n "$runs" ] || runs=$(grep -oE '^Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo "?")
  summary+=("$target: $runs executions in ${seconds}s$([ "$status" -eq 0 ] || echo ", FAILED (see $log)")")
  if [ "$status" -ne 0 ]; then
    printf '%s\n' "${summary[@]}"
    exit "$status"
  fi
done
echo "==> executions"
printf '%s\n' "${summary[@]}"
