#!/usr/bin/env bash
# Proves the Dockerfile's final stage on a machine with no Docker engine and no registry.
#
#   scripts/container-test.sh            as root; CARGO_TARGET_DIR is honoured
#   scripts/container-test.sh --arm64    also cross-builds the arm64 binary and image
#
# What it does:
#   1. installs what it needs when missing (buildah podman runc git curl from Debian, the
#      musl target from rustup);
#   2. builds the static binary with scripts/build-static.sh (the Dockerfile's own recipe)
#      and the github-standin;
#   3. builds a FROM scratch image with buildah from a Dockerfile *generated from the real
#      Dockerfile's final stage* (same labels, paths, ENTRYPOINT, no USER): only the two
#      `COPY --from=build` lines are pointed at the prebuilt binary and the host's CA bundle,
#      because the build stage's base image cannot be pulled here; checks the image's
#      entrypoint, user, architecture and that it holds exactly those two files;
#   4. runs the image with podman the way a GitHub runner runs a Docker action (INPUT_* with
#      hyphens for every input action.yml declares, GITHUB_* variables, the
#      /github/{workspace,workflow,file_commands,home} mounts owned by the runner's uid 1001,
#      workdir /github/workspace, --rm) against the stand-in, four times:
#        A. push adding EPIC-001: exit 0, one milestone with the right due date and marker,
#           one commit on main adding only the link, created=1;
#        B. the push of that commit (a PAT would trigger it): nothing written, no commit;
#        C. milestone `edited` (renamed on GitHub) with `commit: false`: the title flows into
#           the workspace file, which keeps its owner; nothing else changes;
#        D. a push that removes EPIC-001's file: with no git in the image, GitHub's compare
#           API says what the push removed (one compare, one contents read of the file's
#           earlier version), and the milestone is closed; closed=1, no commit;
#      then once more over HTTPS:
#        E. push A against the stand-in serving HTTPS with a certificate made at start
#           (`--tls-ca-out`), its CA given to the image as SSL_CERT_FILE: as A; and the same
#           run without that CA: it fails at once, naming the host and SSL_CERT_FILE, with
#           no retry;
#   5. checks the CA bundle is required (no bundle: the client refuses to start);
#   6. measures image size, binary size and start-to-first-request, and prints a summary.
#   With --arm64: cross-builds the arm64 binary (same script), builds the arm64 image and
#   checks its architecture, and runs push A with that binary under qemu-aarch64.
#
# Everything it makes (temp dir, container storage, containers, images, processes) lives in
# one temp dir and is removed at exit; it is safe to run again and again.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
ARM64=false
for arg in "$@"; do
    case "$arg" in
        --arm64) ARM64=true ;;
        *) echo "usage: $0 [--arm64]" >&2; exit 2 ;;
    esac
done
OWNER=acme
REPO=plan
TOKEN=ghs_containertest0000000000000000000000
RUNNER_UID=1001   # the runner's user on GitHub-hosted runners: the workspace is not root's
SCRIPT_START=$(date +%s%N)

say() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# ----------------------------------------------------------------------------- prerequisites
say "prerequisites"
[ "$(id -u)" = 0 ] || fail "run as root (rootful podman/buildah with vfs storage)"
command -v cargo >/dev/null || fail "cargo is missing; install Rust from https://rustup.rs"
missing=()
for pair in buildah:buildah podman:podman runc:runc git:git curl:curl python3:python3 \
            readelf:binutils x86_64-linux-gnu-gcc:gcc; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if $ARM64; then
    for pair in aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu qemu-aarch64:qemu-user; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
targets=(x86_64-unknown-linux-musl)
$ARM64 && targets+=(aarch64-unknown-linux-musl)
for t in "${targets[@]}"; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done

# ----------------------------------------------------------------------------- temp + cleanup
WORK=$(mktemp -d /tmp/milestone-sync-ctest.XXXXXX)
chmod 755 "$WORK"
TAG=ctest-$$-$RANDOM
IMAGE=localhost/milestone-sync:$TAG
STORE=(--storage-driver vfs --root "$WORK/storage" --runroot "$WORK/runroot")
PODMAN=(podman "${STORE[@]}" --tmpdir "$WORK/podman-tmp" --runtime runc --cgroup-manager cgroupfs --events-backend none)
BUILDAH=(buildah "${STORE[@]}")
PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -d "$WORK/storage" ]; then
        "${PODMAN[@]}" rm -a -f >/dev/null 2>&1 || true
        "${BUILDAH[@]}" rm -a >/dev/null 2>&1 || true
        "${PODMAN[@]}" rmi -a -f >/dev/null 2>&1 || true
    fi
    # vfs layers may hold read-only dirs; make them writable before removing.
    chmod -R u+w "$WORK" 2>/dev/null || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/podman-tmp"

# containers.conf: Debian's podman asks the runtime for default ulimits this sandbox refuses.
export CONTAINERS_CONF=$WORK/containers.conf
printf '[containers]\ndefault_ulimits = []\n' > "$CONTAINERS_CONF"

# ----------------------------------------------------------------------------- build
say "build: scripts/build-static.sh amd64 (the Dockerfile's recipe) and the stand-in"
t=$(date +%s%N)
BIN=$WORK/bin/amd64/milestone-sync
CARGO_TARGET_DIR=$TARGET_DIR "$ROOT/scripts/build-static.sh" amd64 "$BIN"
( cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --locked -p github-standin )
STANDIN_BIN=$TARGET_DIR/debug/github-standin
BUILD_MS=$(ms_since "$t")

# ----------------------------------------------------------------------------- image
# build_image ARCH BINARY IMAGE: the Dockerfile's final stage over a prebuilt binary.
build_image() {
    local arch=$1 bin=$2 image=$3 ctx=$WORK/context-$1
    mkdir -p "$ctx"
    cp "$bin" "$ctx/milestone-sync"
    cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
    # The final stage = from the last `FROM` to the end; `COPY --from=build /x/y/name dest`
    # becomes `COPY name dest` (the files placed in the context above).
    awk '/^FROM /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$ROOT/Dockerfile" \
        | sed -E 's#^COPY --from=build /([^ ]*/)?([^ /]+) #COPY \2 #' > "$ctx/Dockerfile"
    grep -q '^FROM scratch' "$ctx/Dockerfile" || fail "the Dockerfile's final stage is not FROM scratch"
    grep -q -- '--from' "$ctx/Dockerfile" && fail "generated Dockerfile still copies from another stage"
    [ "$(grep -c '^COPY ' "$ctx/Dockerfile")" = 2 ] || fail "the final stage should copy exactly 2 files"
    "${BUILDAH[@]}" bud --isolation chroot --layers=false -q --arch "$arch" --os linux \
        -t "$image" -f "$ctx/Dockerfile" "$ctx" >/dev/null
}
# check_image ARCH IMAGE BINARY: entrypoint, user, architecture, and nothing but our 2 files.
check_image() {
    local arch=$1 image=$2 bin=$3 cfg files ctr mnt
    cfg=$("${PODMAN[@]}" image inspect --format '{{json .Config.Entrypoint}} {{.Config.User}}|{{.Architecture}}|{{.Os}}' "$image")
    [ "$cfg" = "[\"/milestone-sync\"] |$arch|linux" ] \
        || fail "image config is '$cfg', want exec-form entrypoint [\"/milestone-sync\"], no USER, $arch/linux"
    ctr=$("${BUILDAH[@]}" from -q --arch "$arch" "$image")
    mnt=$("${BUILDAH[@]}" mount "$ctr")
    files=$(cd "$mnt" && find . -type f -o -type l | sort | tr '\n' ' ')
    [ "$files" = "./etc/ssl/certs/ca-certificates.crt ./milestone-sync " ] \
        || fail "the image should hold only the binary and the CA bundle, holds: $files"
    cmp -s "$mnt/milestone-sync" "$bin" || fail "the image's binary is not the one built"
    [ -x "$mnt/milestone-sync" ] || fail "the image's binary is not executable"
    "${BUILDAH[@]}" umount "$ctr" >/dev/null
    "${BUILDAH[@]}" rm "$ctr" >/dev/null
}
say "buildah bud: the Dockerfile's final stage over the prebuilt binary"
t=$(date +%s%N)
build_image amd64 "$BIN" "$IMAGE"
IMAGE_BUILD_MS=$(ms_since "$t")
check_image amd64 "$IMAGE" "$BIN"
echo "ok: entrypoint [\"/milestone-sync\"] (exec form), root, amd64/linux, 2 files" >&2

# ----------------------------------------------------------------------------- scenario
# make_scenario DIR: a bare repository (what the stand-in serves) whose main has a README,
# then a push adding a project and EPIC-001; the runner's side (checkout owned by the runner's
# user, event payload, empty file-command files, HOME). Sets BEFORE, AFTER.
EPIC=.ruru/projects/demo/epics/EPIC-001_demo.md
make_scenario() {
    local dir=$1 src=$1/src
    git init -q --bare -b main "$dir/plan.git"
    git init -q -b main "$src"
    g() { git -C "$src" -c user.name=Dev -c user.email=dev@example.com -c commit.gpgsign=false "$@"; }
    printf '# plan\n' > "$src/README.md"
    g add README.md && g commit -q -m "initial"
    BEFORE=$(g rev-parse HEAD)
    mkdir -p "$src/.ruru/projects/demo/epics"
    cat > "$src/.ruru/projects/demo/project_config.toml" <<EOF
project_name = "Demo"

[github_integration]
enable_sync = true
repo_owner = "$OWNER"
repo_name = "$REPO"
EOF
    cat > "$src/$EPIC" <<'EOF'
+++
id = "EPIC-001"
title = "Demo epic"
status = "🟡 To Do"
type = "🗺️ Epic"
created_date = "2026-01-05"
updated_date = "2026-01-05"
project_name = "Demo"
target_date = "2026-05-23" # the demo date
tags = ["demo"]
+++

# Demo epic

## Description ✍️

Ship the container action and prove it end to end.

## Acceptance Criteria ✅

*   The milestone exists.
EOF
    g add -A && g commit -q -m "Add EPIC-001"
    AFTER=$(g rev-parse HEAD)
    g push -q "$dir/plan.git" main
    mkdir -p "$dir/runner/workflow" "$dir/runner/file_commands" "$dir/runner/home"
    git clone -q "$dir/plan.git" "$dir/runner/workspace"
    push_event "$dir" "$BEFORE" "$AFTER"
    chown -R "$RUNNER_UID:$RUNNER_UID" "$dir/runner"
}
# push_event DIR BEFORE AFTER: a push payload for main, as GitHub sends it.
push_event() {
    local dir=$1 before=$2 after=$3
    cat > "$dir/runner/workflow/event.json" <<EOF
{
  "ref": "refs/heads/main", "before": "$before", "after": "$after",
  "created": false, "deleted": false, "forced": false, "base_ref": null,
  "compare": "https://github.com/$OWNER/$REPO/compare/${before:0:12}...${after:0:12}",
  "commits": [{"id": "$after", "message": "push", "distinct": true, "added": [], "removed": [], "modified": []}],
  "head_commit": {"id": "$after", "message": "push"},
  "repository": {"id": 1, "name": "$REPO", "full_name": "$OWNER/$REPO", "private": false,
                 "owner": {"login": "$OWNER", "name": "$OWNER"}, "default_branch": "main", "master_branch": "main"},
  "pusher": {"name": "dev", "email": "dev@example.com"},
  "sender": {"login": "dev", "id": 2, "type": "User"}
}
EOF
}
# start_standin DIR: starts the stand-in serving DIR/plan.git (in this shell, so that the
# cleanup knows its pid); sets STANDIN_URL.
# More arguments go to the stand-in (`--tls-ca-out FILE`: HTTPS).
start_standin() {
    local dir=$1
    shift
    "$STANDIN_BIN" --owner "$OWNER" --repo "$REPO" --token "$TOKEN" --git-dir "$dir/plan.git" \
        --default-branch main --port 0 --port-file "$dir/standin.url" "$@" > "$dir/standin.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 300); do [ -s "$dir/standin.url" ] && break; sleep 0.1; done
    [ -s "$dir/standin.url" ] || { cat "$dir/standin.log" >&2; fail "the stand-in did not start"; }
    STANDIN_URL=$(cat "$dir/standin.url")
}
# CURL_CA: a CA certificate curl trusts besides the system's (the HTTPS stand-in's).
CURL_CA=
api_get() {
    curl -fsS ${CURL_CA:+--cacert "$CURL_CA"} -H "Authorization: Bearer $TOKEN" \
        -H "Accept: application/vnd.github+json" "$@"
}

# Every input declared in action.yml, with its default, as the runner sets them; the list
# comes from the source of truth the action_yml test keeps in step with action.yml.
mapfile -t DECLARED < <(sed -n '/^pub const INPUTS/,/^\];/p' "$ROOT/src/config/inputs.rs" \
    | sed -nE 's/^[[:space:]]*input\("([^"]+)", "([^"]*)",.*/\1=\2/p')
[ ${#DECLARED[@]} -gt 0 ] || fail "could not read INPUTS from src/config/inputs.rs"
grep -q '^  commit:' "$ROOT/action.yml" || fail "action.yml declares no 'commit' input"

# runner_env API WS WORKFLOW FILE_COMMANDS HOME [input=value...]: the environment a runner
# gives a Docker action, one NAME=VALUE a line. Inputs: upper-cased, spaces to _, hyphens
# kept. Uses EVENT_NAME and EVENT_SHA.
EVENT_NAME=push
EVENT_SHA=
runner_env() {
    local api=$1 ws=$2 workflow=$3 fc=$4 home=$5 kv name value override
    shift 5
    for kv in "${DECLARED[@]}"; do
        name=${kv%%=*} value=${kv#*=}
        [ "$name" = github-token ] && value=$TOKEN
        for override in "$@"; do [ "${override%%=*}" = "$name" ] && value=${override#*=}; done
        printf 'INPUT_%s=%s\n' "$(printf '%s' "$name" | tr '[:lower:] ' '[:upper:]_')" "$value"
    done
    printf '%s\n' \
        "HOME=$home" CI=true GITHUB_ACTIONS=true \
        "GITHUB_API_URL=$api" GITHUB_SERVER_URL=https://github.com \
        "GITHUB_REPOSITORY=$OWNER/$REPO" "GITHUB_REPOSITORY_OWNER=$OWNER" \
        "GITHUB_EVENT_NAME=$EVENT_NAME" "GITHUB_EVENT_PATH=$workflow/event.json" \
        "GITHUB_WORKSPACE=$ws" GITHUB_REF=refs/heads/main \
        GITHUB_REF_NAME=main GITHUB_REF_TYPE=branch "GITHUB_SHA=$EVENT_SHA" \
        "GITHUB_OUTPUT=$fc/output" "GITHUB_STEP_SUMMARY=$fc/summary" \
        GITHUB_ACTOR=dev GITHUB_WORKFLOW=sync GITHUB_RUN_ID=1 GITHUB_RUN_NUMBER=1 \
        GITHUB_JOB=sync GITHUB_ACTION=__self RUNNER_OS=Linux RUNNER_TEMP=/github/runner_temp
}
# run_container API DIR [input=value...] [-- extra podman args]: the runner's `docker run`:
# --rm, workdir /github/workspace and the four /github mounts; empty file-command files.
run_container() {
    local api=$1 dir=$2 line
    shift 2
    local -a inputs=() extra=() envs=()
    while [ $# -gt 0 ]; do
        if [ "$1" = -- ]; then shift; extra=("$@"); break; fi
        inputs+=("$1"); shift
    done
    : > "$dir/runner/file_commands/output"; : > "$dir/runner/file_commands/summary"
    chown "$RUNNER_UID:$RUNNER_UID" "$dir/runner/file_commands/"*
    while IFS= read -r line; do envs+=(-e "$line"); done < <(runner_env "$api" /github/workspace \
        /github/workflow /github/file_commands /github/home "${inputs[@]}")
    "${PODMAN[@]}" run --rm --ulimit host --network host \
        --name "ms-ctest-$$-$RANDOM" --workdir /github/workspace \
        -v "$dir/runner/home:/github/home" \
        -v "$dir/runner/workflow:/github/workflow" \
        -v "$dir/runner/file_commands:/github/file_commands" \
        -v "$dir/runner/workspace:/github/workspace" \
        "${envs[@]}" "${extra[@]}" "$IMAGE"
}
# run_bare API DIR BINARY...: the same run without a container (host paths, no git on PATH,
# like the image); the command may be a wrapper such as qemu-aarch64.
run_bare() {
    local api=$1 dir=$2
    shift 2
    local -a envs=()
    : > "$dir/runner/file_commands/output"; : > "$dir/runner/file_commands/summary"
    mapfile -t envs < <(runner_env "$api" "$dir/runner/workspace" "$dir/runner/workflow" \
        "$dir/runner/file_commands" "$dir/runner/home")
    local cmd
    cmd=$(command -v "$1") || fail "$1 not found"
    shift
    (cd "$dir/runner/workspace" && env -i PATH=/nonexistent "${envs[@]}" "$cmd" "$@")
}
# expect_run NAME RC OUT: show the log, fail unless the exit code is 0.
expect_run() {
    sed 's/^/  | /' "$3" >&2
    [ "$2" = 0 ] || fail "$1: exited $2"
}
output_of() { grep -m1 "^$1=" "$2/runner/file_commands/output" | cut -d= -f2-; }

# check_push_a DIR API NAME: the result of push A (the push that added EPIC-001).
check_push_a() {
    local dir=$1 api=$2 name=$3 milestones info count html_url due head
    grep -q "git is not available in this environment" "$dir/run-a.out" \
        || fail "$name: the log does not say git is missing (expected: the image has no git)"
    grep -q "asking GitHub's compare API" "$dir/run-a.out" \
        || fail "$name: the log does not say GitHub's compare API was asked for the push's files"
    [ "$(output_of created "$dir")" = 1 ] \
        || { cat "$dir/runner/file_commands/output" >&2; fail "$name: outputs lack created=1"; }
    [ -s "$dir/runner/file_commands/summary" ] || fail "$name: the job summary is empty"
    milestones=$(api_get "$api/repos/$OWNER/$REPO/milestones?state=all")
    info=$(python3 -c '
import json, sys
ms = json.loads(sys.argv[1])
m = ms[0] if ms else {}
print(len(ms), m.get("html_url", "-"), m.get("due_on", "-"))
ok = bool(ms) and m["title"] == "Demo epic" and "IntelliManage-ID: EPIC-001" in (m.get("description") or "")
sys.exit(0 if ok else 3)' "$milestones") || fail "$name: the milestone is not as expected: $milestones"
    read -r count html_url due <<< "$info"
    [ "$count" = 1 ] || fail "$name: want 1 milestone, the stand-in has $count"
    [ "$due" = "2026-05-23T07:00:00Z" ] || fail "$name: due_on is $due, want 2026-05-23T07:00:00Z"
    head=$(git --git-dir "$dir/plan.git" rev-parse main)
    [ "$head" != "$AFTER" ] || fail "$name: main did not move: no commit was made"
    [ "$(git --git-dir "$dir/plan.git" rev-parse main^)" = "$AFTER" ] || fail "$name: the new commit's parent is not the pushed head"
    git --git-dir "$dir/plan.git" show "main:$EPIC" | grep -qx "related_milestone = \"$html_url\"" \
        || { git --git-dir "$dir/plan.git" show "main:$EPIC" >&2; fail "$name: EPIC-001 has no related_milestone = \"$html_url\""; }
    # Only lines were added: every line of the pushed file is still there, in order.
    diff <(git --git-dir "$dir/plan.git" show "$AFTER:$EPIC") <(git --git-dir "$dir/plan.git" show "main:$EPIC") \
        | grep -q '^<' && fail "$name: the commit changed or removed bytes it should have kept"
    [ "$(git --git-dir "$dir/plan.git" diff --name-only "$AFTER" main)" = "$EPIC" ] \
        || fail "$name: the commit touched more than EPIC-001"
    SYNC_HEAD=$head
    echo "ok: $name: exit 0, 1 milestone ($html_url, due 2026-05-23), commit ${head:0:12} adds only the link, created=1" >&2
}

say "scenario: acme/plan, and the stand-in serving it"
S=$WORK/scenario
mkdir -p "$S"
make_scenario "$S"
start_standin "$S"
API=$STANDIN_URL
echo "stand-in: $API" >&2
RUNS_MS=0

say "A. podman run, push adding EPIC-001 (as the runner would)"
EVENT_NAME=push EVENT_SHA=$AFTER
t=$(date +%s%N)
set +e; run_container "$API" "$S" > "$S/run-a.out" 2>&1; rc=$?; set -e
RUNS_MS=$(( RUNS_MS + $(ms_since "$t") ))
expect_run A "$rc" "$S/run-a.out"
check_push_a "$S" "$API" A

say "B. podman run, the push of the sync's own commit: nothing to write"
git -c safe.directory='*' -C "$S/runner/workspace" pull -q --ff-only origin main
chown -R "$RUNNER_UID:$RUNNER_UID" "$S/runner/workspace"
push_event "$S" "$AFTER" "$SYNC_HEAD"
EVENT_SHA=$SYNC_HEAD
t=$(date +%s%N)
set +e; run_container "$API" "$S" > "$S/run-b.out" 2>&1; rc=$?; set -e
RUNS_MS=$(( RUNS_MS + $(ms_since "$t") ))
expect_run B "$rc" "$S/run-b.out"
grep -q "nothing to change" "$S/run-b.out" || fail "B: the log does not say 'nothing to change'"
[ "$(git --git-dir "$S/plan.git" rev-parse main)" = "$SYNC_HEAD" ] || fail "B: a commit was made"
for o in created updated closed; do
    [ "$(output_of "$o" "$S")" = 0 ] || fail "B: output $o is '$(output_of "$o" "$S")', want 0"
done
[ "$(api_get "$API/repos/$OWNER/$REPO/milestones/1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["title"])')" = "Demo epic" ] \
    || fail "B: the milestone changed"
echo "ok: B: exit 0, nothing to change, no commit, created=updated=closed=0" >&2

say "C. podman run, milestone renamed on GitHub (edited), commit: false"
curl -fsS -X PATCH -H "Authorization: Bearer $TOKEN" -H "Accept: application/vnd.github+json" \
    -d '{"title": "Demo epic, renamed"}' "$API/repos/$OWNER/$REPO/milestones/1" > "$S/milestone.json"
python3 - "$S/milestone.json" "$S/runner/workflow/event.json" "$OWNER" "$REPO" <<'EOF'
import json, sys
milestone = json.load(open(sys.argv[1]))
owner, repo = sys.argv[3], sys.argv[4]
json.dump({
    "action": "edited",
    "milestone": milestone,
    "changes": {"title": {"from": "Demo epic"}},
    "repository": {"id": 1, "name": repo, "full_name": f"{owner}/{repo}", "private": False,
                   "owner": {"login": owner}, "default_branch": "main"},
    "sender": {"login": "dev", "id": 2, "type": "User"},
}, open(sys.argv[2], "w"))
EOF
chown "$RUNNER_UID:$RUNNER_UID" "$S/runner/workflow/event.json"
cp "$S/runner/workspace/$EPIC" "$S/epic-before-c.md"
EVENT_NAME=milestone
t=$(date +%s%N)
set +e; run_container "$API" "$S" commit=false > "$S/run-c.out" 2>&1; rc=$?; set -e
RUNS_MS=$(( RUNS_MS + $(ms_since "$t") ))
expect_run C "$rc" "$S/run-c.out"
grep -qx 'title = "Demo epic, renamed"' "$S/runner/workspace/$EPIC" \
    || { cat "$S/runner/workspace/$EPIC" >&2; fail "C: the new title is not in the workspace file"; }
c_diff=$(diff "$S/epic-before-c.md" "$S/runner/workspace/$EPIC" || true)
changed=$(sed -nE 's/^[<>] ([a-z_]+) =.*/\1/p' <<< "$c_diff" | sort -u | tr '\n' ' ')
other=$(grep '^[<>]' <<< "$c_diff" | grep -vE '^[<>] (title|updated_date|milestone_sync_base) =' || true)
[ -z "$other" ] || fail "C: lines other than title/updated_date/milestone_sync_base changed: $other"
[ "$(stat -c %u:%g "$S/runner/workspace/$EPIC")" = "$RUNNER_UID:$RUNNER_UID" ] \
    || fail "C: the file is now owned by $(stat -c %u:%g "$S/runner/workspace/$EPIC"), not the runner's user"
[ "$(git --git-dir "$S/plan.git" rev-parse main)" = "$SYNC_HEAD" ] || fail "C: a commit was made despite commit: false"
[ "$(output_of files "$S")" = 1 ] || fail "C: output files is '$(output_of files "$S")', want 1"
grep -qx "$EPIC" "$S/runner/file_commands/output" || fail "C: artifacts-changed does not list $EPIC"
echo "ok: C: exit 0, workspace file follows the rename (changed keys: ${changed% }), still owned by $RUNNER_UID, no commit, files=1" >&2

say "D. podman run, a push that removes EPIC-001: the milestone is closed without git"
# C left its change in the workspace (commit: false): drop it, then push the removal.
w() { git -C "$S/runner/workspace" -c safe.directory='*' -c user.name=Dev -c user.email=dev@example.com -c commit.gpgsign=false "$@"; }
w checkout -q -- "$EPIC"
w rm -q "$EPIC"
w commit -q -m "Drop EPIC-001"
w push -q origin main
D_AFTER=$(w rev-parse HEAD)
chown -R "$RUNNER_UID:$RUNNER_UID" "$S/runner/workspace"
push_event "$S" "$SYNC_HEAD" "$D_AFTER"
EVENT_NAME=push EVENT_SHA=$D_AFTER
t=$(date +%s%N)
set +e; run_container "$API" "$S" > "$S/run-d.out" 2>&1; rc=$?; set -e
RUNS_MS=$(( RUNS_MS + $(ms_since "$t") ))
expect_run D "$rc" "$S/run-d.out"
grep -q "git is not available in this environment); asking GitHub's compare API" "$S/run-d.out" \
    || fail "D: the log does not say GitHub's compare API was asked (no git in the image)"
grep -q "1 of them artifact(s) that sync; 1 earlier version(s) read through the contents API; 2 request(s) in all" "$S/run-d.out" \
    || fail "D: the log does not show one compare and one contents read"
[ "$(api_get "$API/repos/$OWNER/$REPO/milestones/1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = closed ] \
    || fail "D: the milestone of the removed artifact is not closed"
[ "$(output_of closed "$S")" = 1 ] || fail "D: output closed is '$(output_of closed "$S")', want 1"
[ "$(git --git-dir "$S/plan.git" rev-parse main)" = "$D_AFTER" ] || fail "D: a commit was made"
echo "ok: D: exit 0, one compare + one contents read, milestone #1 closed, closed=1, no commit" >&2

# ----------------------------------------------------------------------------- HTTPS
say "E. podman run over HTTPS: a certificate made now, its CA trusted through SSL_CERT_FILE"
S3=$WORK/https
mkdir -p "$S3"
make_scenario "$S3"
start_standin "$S3" --tls-ca-out "$S3/runner/home/test-ca.pem"
HTTPS_API=$STANDIN_URL
case "$HTTPS_API" in https://localhost:*) ;; *) fail "E: the stand-in does not serve HTTPS: $HTTPS_API" ;; esac
chown "$RUNNER_UID:$RUNNER_UID" "$S3/runner/home/test-ca.pem"
EVENT_NAME=push EVENT_SHA=$AFTER
set +e
run_container "$HTTPS_API" "$S3" -- -e SSL_CERT_FILE=/github/home/test-ca.pem > "$S3/run-a.out" 2>&1
rc=$?
set -e
expect_run E "$rc" "$S3/run-a.out"
CURL_CA=$S3/runner/home/test-ca.pem check_push_a "$S3" "$HTTPS_API" E
echo "ok: E: over HTTPS with the test CA as SSL_CERT_FILE, as A" >&2
# The same run without that CA: the image's bundle does not know it. One connection, no
# retry, and a message that names the host and what to check.
set +e
run_container "$HTTPS_API" "$S3" > "$S3/run-untrusted.out" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] || fail "E: the run trusted a certificate no CA in the image signed"
grep -q "the TLS certificate of localhost:${HTTPS_API##*:} was not accepted" "$S3/run-untrusted.out" \
    || { cat "$S3/run-untrusted.out" >&2; fail "E: an untrusted certificate is not named as such"; }
grep -q "SSL_CERT_FILE" "$S3/run-untrusted.out" || fail "E: the message does not say what to check"
! grep -q "retrying GitHub request" "$S3/run-untrusted.out" || fail "E: an untrusted certificate was retried"
echo "ok: E: without the CA: exit $rc at once, the host and SSL_CERT_FILE named, no retry" >&2

# ----------------------------------------------------------------------------- CA bundle
say "without the CA bundle the client must refuse to start (native roots, not webpki)"
mkdir -p "$WORK/no-certs"
EVENT_NAME=push EVENT_SHA=$SYNC_HEAD
push_event "$S" "$AFTER" "$SYNC_HEAD"
set +e
run_container "$API" "$S" -- -v "$WORK/no-certs:/etc/ssl/certs:ro" > "$WORK/nocert.out" 2>&1
NOCERT_RC=$?
set -e
[ "$NOCERT_RC" != 0 ] || fail "the binary ran without a CA bundle: is the bundle in the image still needed?"
grep -q "cannot set up the GitHub client" "$WORK/nocert.out" \
    || { cat "$WORK/nocert.out" >&2; fail "without CA bundle: exit $NOCERT_RC for another reason"; }
CA_NOTE="required (without it: exit $NOCERT_RC, \"$(grep -o 'cannot set up the GitHub client.*' "$WORK/nocert.out" | head -1)\")"
echo "ok: CA bundle $CA_NOTE" >&2

# ----------------------------------------------------------------------------- timings
# start-to-first-request: a tiny HTTP listener stamps (CLOCK_REALTIME, ns) the moment each
# request's headers have arrived and answers 401 so the binary stops at once. t0 is taken
# right before exec (bare binary, same env, host paths) or right before `podman run`.
say "start-to-first-request"
cat > "$WORK/listener.py" <<'EOF'
import http.server, os, sys, time
log = open(sys.argv[1], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def _any(self):
        log.write(f"{time.time_ns()} {self.command} {self.path}\n")
        body = b'{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2] + ".tmp", "w").write(f"http://127.0.0.1:{s.server_port}")
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
s.serve_forever()
EOF
REQLOG=$WORK/requests.log
: > "$REQLOG"
python3 "$WORK/listener.py" "$REQLOG" "$WORK/listener.url" > "$WORK/listener.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do [ -s "$WORK/listener.url" ] && break; sleep 0.1; done
[ -s "$WORK/listener.url" ] || fail "the timing listener did not start"
LISTENER=$(cat "$WORK/listener.url")
first_request_after() { # first_request_after T0 -> ms from T0 to the first request stamped after it
    awk -v t0="$1" '$1 >= t0 { printf "%.1f\n", ($1 - t0) / 1e6; found = 1; exit } END { if (!found) print "none" }' "$REQLOG"
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
bare=() cont=()
for _ in 1 2 3 4 5 6 7; do
    t0=$(date +%s%N)
    run_bare "$LISTENER" "$S" "$BIN" >/dev/null 2>&1 || true
    bare+=("$(first_request_after "$t0")")
done
for _ in 1 2 3 4 5; do
    t0=$(date +%s%N)
    run_container "$LISTENER" "$S" >/dev/null 2>&1 || true
    cont+=("$(first_request_after "$t0")")
done
printf '%s\n' "${bare[@]}" "${cont[@]}" | grep -qx none && fail "a timing run made no request"
BARE_MS=$(printf '%s\n' "${bare[@]}" | median)
CONT_MS=$(printf '%s\n' "${cont[@]}" | median)

# ----------------------------------------------------------------------------- arm64
ARM_NOTE="not run (pass --arm64)"
if $ARM64; then
    say "arm64: cross-build, image, and push A under qemu-aarch64"
    t=$(date +%s%N)
    ARM_BIN=$WORK/bin/arm64/milestone-sync
    CARGO_TARGET_DIR=$TARGET_DIR "$ROOT/scripts/build-static.sh" arm64 "$ARM_BIN"
    ARM_BUILD_MS=$(ms_since "$t")
    ARM_IMAGE=localhost/milestone-sync:$TAG-arm64
    build_image arm64 "$ARM_BIN" "$ARM_IMAGE"
    check_image arm64 "$ARM_IMAGE" "$ARM_BIN"
    ARM_IMAGE_BYTES=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$ARM_IMAGE")
    S2=$WORK/scenario-arm64
    mkdir -p "$S2"
    make_scenario "$S2"
    start_standin "$S2"
    API2=$STANDIN_URL
    EVENT_NAME=push EVENT_SHA=$AFTER
    set +e; run_bare "$API2" "$S2" qemu-aarch64 "$ARM_BIN" > "$S2/run-a.out" 2>&1; rc=$?; set -e
    expect_run "arm64 A" "$rc" "$S2/run-a.out"
    check_push_a "$S2" "$API2" "arm64 A"
    ARM_NOTE="binary $(stat -c %s "$ARM_BIN") bytes, image $ARM_IMAGE_BYTES bytes (arm64/linux, 2 files), push A passed under qemu-aarch64; cross-build ${ARM_BUILD_MS} ms"
fi

# ----------------------------------------------------------------------------- results
IMAGE_BYTES=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
BIN_BYTES=$(stat -c %s "$BIN")
CA_BYTES=$(stat -c %s /etc/ssl/certs/ca-certificates.crt)
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }
cat <<EOF

==================== container-test results ====================
image                 $IMAGE (FROM scratch, final stage of ./Dockerfile)
image size            $IMAGE_BYTES bytes ($(mib "$IMAGE_BYTES"))
binary size           $BIN_BYTES bytes ($(mib "$BIN_BYTES")), static, stripped, amd64
CA bundle             $CA_BYTES bytes; $CA_NOTE
entrypoint / user     ["/milestone-sync"] (exec form) / root (no USER)
A push, new epic      exit 0, 1 milestone, main +1 commit adding only the link, created=1
B push of that commit exit 0, nothing to change, no commit
C milestone edited    exit 0, title flows into the workspace file (commit: false), owner kept
D push removing it    exit 0, milestone closed (compare + 1 contents read, no git), no commit
E over HTTPS          as A with the test CA in SSL_CERT_FILE; without it: refused at once, host named, no retry
start→first request   bare binary: median $BARE_MS ms (runs: ${bare[*]})
                      podman run:  median $CONT_MS ms (runs: ${cont[*]})
  method              t0 = date +%s%N just before exec / \`podman run\`; t1 = wall clock
                      when a local HTTP listener has read the first request's headers
                      (it answers 401 so the binary stops). Same env as the real runs.
arm64                 $ARM_NOTE
times                 build ${BUILD_MS} ms, buildah bud ${IMAGE_BUILD_MS} ms, runs A-D ${RUNS_MS} ms, total $(ms_since "$SCRIPT_START") ms
================================================================
EOF
