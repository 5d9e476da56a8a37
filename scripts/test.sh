#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need (git, which
# backs the GitHub stand-in's git database; strace, with which the security tests watch every
# file and socket call of the binary), then `cargo test --workspace`, and checks that the test
# token shows nowhere in the suite's output.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v git >/dev/null || missing+=(git)
command -v strace >/dev/null || missing+=(strace)
if ((${#missing[@]})); then
  echo "test: installing ${missing[*]}"
  if command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq "${missing[@]}") >/dev/null
  else
    echo "test: install ${missing[*]} first" >&2
    exit 1
  fi
fi
command -v cargo >/dev/null || { echo "test: cargo is missing; install Rust from https://rustup.rs" >&2; exit 1; }

# The model-based test (tests/all/model.rs) plays this many random cases; 12 when unset. CI can
# afford more: each case is a few runs of the binary.
export PROPTEST_CASES="${PROPTEST_CASES:-32}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
# Every run of the binary is checked on its own (tests/all/common); this catches the rest: the
# test tokens of tests/all/common and tests/all/github_client.rs must not show in any output.
if grep -n -e ghs_test_token_never_printed -e ghs_client_test_token "$log"; then
  echo "test: the test token appeared in the test output (above)" >&2
  exit 1
fi
