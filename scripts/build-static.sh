#!/usr/bin/env bash
# Builds milestone-sync as one static, stripped Linux binary for one architecture: the binary
# the container image ships. The Dockerfile and scripts/container-test.sh both call this
# script, so the binary the container test proves is built exactly as the release builds it.
#
#   scripts/build-static.sh ARCH OUT      ARCH: amd64 | arm64 (Docker's TARGETARCH names)
#                                         OUT:  where to copy the finished binary
#
# Needs: cargo with the musl target of ARCH (`rustup target add …-unknown-linux-musl`) and a
# GCC for ARCH (`x86_64-linux-gnu-gcc`, `aarch64-linux-gnu-gcc`; Debian's gcc or
# gcc-aarch64-linux-gnu / gcc-x86-64-linux-gnu). The same recipe builds natively and across
# architectures, so a release builds both images on one amd64 machine at native speed
# instead of compiling Rust under QEMU.
#
# The recipe:
# - Rust's musl targets link statically, with musl's libc and start files shipped inside the
#   Rust toolchain (`-C link-self-contained=yes`), linked by the toolchain's own rust-lld:
#   no musl-gcc, no cross linker, no sysroot needed.
# - The only C in the tree is ring's (rustls' crypto). It needs a C compiler for the target
#   architecture but no libc headers of its own, so a plain GCC for that architecture does;
#   `CC_<target>` names it, because the cc crate's own guess for musl targets is a
#   `<arch>-linux-musl-gcc` that Debian does not ship.
# It fails unless the result is static (no program interpreter: the image has no dynamic
# loader), stripped, and built for ARCH.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 amd64|arm64 OUT" >&2; exit 2; }
arch=$1
out=$2
case "$arch" in
  amd64) target=x86_64-unknown-linux-musl gcc=x86_64-linux-gnu-gcc machine='Advanced Micro Devices X86-64' ;;
  arm64) target=aarch64-unknown-linux-musl gcc=aarch64-linux-gnu-gcc machine=AArch64 ;;
  *) echo "build-static: unsupported architecture '$arch' (amd64 or arm64)" >&2; exit 2 ;;
esac
command -v "$gcc" >/dev/null || { echo "build-static: $gcc is missing (a GCC for $arch)" >&2; exit 1; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
upper=$(printf '%s' "$target" | tr 'a-z-' 'A-Z_')
export "CC_${target//-/_}=$gcc"
export "CARGO_TARGET_${upper}_LINKER=rust-lld"
export "CARGO_TARGET_${upper}_RUSTFLAGS=-C link-self-contained=yes"
cargo build --release --locked --target "$target" -p milestone-sync

target_dir=${CARGO_TARGET_DIR:-target}
bin=$target_dir/$target/release/milestone-sync
headers=$(LC_ALL=C readelf -hlSW "$bin")
if grep -q 'Requesting program interpreter' <<<"$headers"; then
  echo "build-static: $bin is dynamically linked; the image has no loader to run it" >&2
  exit 1
fi
if grep -q '\.symtab' <<<"$headers"; then
  echo "build-static: $bin is not stripped (strip = true in [profile.release])" >&2
  exit 1
fi
if ! grep -q "Machine:[[:space:]]*$machine\$" <<<"$headers"; then
  echo "build-static: $bin is not an $arch binary: $(grep 'Machine:' <<<"$headers")" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
cp "$bin" "$out"
echo "build-static: $out ($arch, $target, static, $(stat -c %s "$out") bytes)"
