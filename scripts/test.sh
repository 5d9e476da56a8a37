#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need (git, which
# backs the GitHub stand-in's git database), then `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v git >/dev/null; then
  echo "test: installing git"
  if command -v apt-get >/dev/null; then (apt-get update -qq && apt-get install -y -qq git) >/dev/null; else echo "test: install git first" >&2; exit 1; fi
fi
command -v cargo >/dev/null || { echo "test: cargo is missing; install Rust from https://rustup.rs" >&2; exit 1; }

cargo test --workspace --locked "$@"
