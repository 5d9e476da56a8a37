# milestone-sync as a Docker container action.
#
# Two stages: a Rust toolchain builds one static (musl) binary; the final image is `scratch`
# holding only that binary and a CA bundle: no shell, no git, no package manager, ~6 MB.
#
# Building this file at every workflow run costs minutes (a cold Rust build), so releases
# publish the image prebuilt (.github/workflows/release.yml) and the released action.yml
# says `image: docker://ghcr.io/…/milestone-sync:<version>`. The action.yml on the main
# branch still says `image: Dockerfile`, which is this file.
#
# Multi-arch: the build stage always runs on the builder's own platform ($BUILDPLATFORM) and
# cross-compiles for $TARGETARCH (amd64 or arm64), so `docker buildx build --platform
# linux/amd64,linux/arm64` compiles both at native speed instead of under QEMU.
# scripts/container-test.sh proves the final stage on a machine without a Docker engine.

# -------------------------------------------------------------------------------------------
# Build stage
# -------------------------------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM rust:1.95.0-bookworm AS build

# Set by BuildKit (docker build, buildx) and buildah; a builder that does not set it builds
# for its own architecture.
ARG TARGETARCH

# The musl target for TARGETARCH, and a GCC for that architecture (ring's C parts): the
# image's own gcc when building natively, Debian's cross gcc otherwise. ca-certificates: the
# bundle copied into the final stage (see there for why it is needed).
# Versions unpinned on purpose: the base image's tag already fixes the Debian release.
# hadolint ignore=DL3008
RUN set -eu; \
    arch=${TARGETARCH:-$(dpkg --print-architecture)}; \
    case "$arch" in \
      amd64) target=x86_64-unknown-linux-musl gcc=x86_64-linux-gnu-gcc pkg=gcc-x86-64-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-musl gcc=aarch64-linux-gnu-gcc pkg=gcc-aarch64-linux-gnu ;; \
      *) echo "unsupported target architecture '$arch' (amd64 or arm64)" >&2; exit 1 ;; \
    esac; \
    if command -v "$gcc" >/dev/null; then pkg=; fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates ${pkg:+"$pkg"}; \
    rm -rf /var/lib/apt/lists/*; \
    rustup target add "$target"

WORKDIR /src
COPY scripts/build-static.sh scripts/build-static.sh

# Dependency cache: every dependency built from the manifests and the lock file alone, with
# stub sources, in a layer of its own; it is redone only when Cargo.toml/Cargo.lock change.
# (Works with any layer cache, unlike RUN --mount=type=cache.) The workspace also lists
# `standin` (the test stand-in): its manifest and stub targets let cargo load the workspace;
# `-p milestone-sync` never builds it. The core crate (crates/core) gets a stub too.
COPY Cargo.toml Cargo.lock ./
COPY standin/Cargo.toml standin/Cargo.toml
COPY crates/core/Cargo.toml crates/core/Cargo.toml
RUN mkdir -p src standin/src crates/core/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs standin/src/lib.rs crates/core/src/lib.rs \
 && echo 'fn main() {}' > standin/src/main.rs \
 && scripts/build-static.sh "${TARGETARCH:-$(dpkg --print-architecture)}" /tmp/stub \
 && rm -rf src crates/core/src /tmp/stub

# The real sources. `touch` because COPY keeps the files' times, which can be older than the
# stub build: cargo would then take the stub for fresh. build-static.sh fails unless the
# binary is static (scratch has no dynamic loader), stripped, and for TARGETARCH.
COPY crates/core/src crates/core/src
COPY src src
RUN touch src/main.rs src/lib.rs crates/core/src/lib.rs \
 && scripts/build-static.sh "${TARGETARCH:-$(dpkg --print-architecture)}" /milestone-sync

# -------------------------------------------------------------------------------------------
# Final stage: what the runner starts
# -------------------------------------------------------------------------------------------
# scratch + a static binary: nothing else is needed at run time (no libc, no loader), and
# there is nothing in the image for a scanner to flag. No shell and no git inside: commits
# go through the Git Database API, and without git a push run asks GitHub's compare API which
# files the push changed (one request, plus one contents read per changed or removed
# artifact; it says so in the log). See docs/no-git.md.
FROM scratch

# The release adds org.opencontainers.image.source/version/revision (docker/metadata-action);
# the source label is what links the GHCR package to its repository.
LABEL org.opencontainers.image.title="milestone-sync" \
      org.opencontainers.image.description="Two-way sync between IntelliManage Epics/Features and GitHub Milestones" \
      org.opencontainers.image.licenses="MIT"

# CA bundle at the Debian path. Required, not decorative: the client uses `rustls`
# without webpki roots, so the roots come from the system (rustls-native-certs reads
# SSL_CERT_FILE or the standard paths, /etc/ssl/certs/ca-certificates.crt first on Linux).
# With no roots the client refuses to build ("cannot set up the GitHub client"), even for
# an http:// API URL: the action would exit 2 before its first request.
# scripts/container-test.sh checks both.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /milestone-sync /milestone-sync

# No USER on purpose: the runner mounts the workspace and the file-command directory owned by
# the runner's user, not by any user of this image; only root can write the files the action
# changes and GITHUB_OUTPUT/GITHUB_STEP_SUMMARY (GitHub: Docker actions run as root).

# Exec form, the binary itself: the runner passes inputs as INPUT_<NAME> with hyphens kept
# (INPUT_GITHUB-TOKEN, INPUT_DRY-RUN). A POSIX shell in between (shell form, or an entrypoint
# script under dash/busybox) drops variables whose names are not shell identifiers, so the
# token would silently vanish. Exec form also makes the binary PID 1, receiving the runner's
# SIGTERM on cancellation directly.
ENTRYPOINT ["/milestone-sync"]
