#!/usr/bin/env bash
# Runs the action's main job (a push sync) on the demo workspace in examples/demo, against
# the local GitHub stand-in: no network, no token. Then runs it again, as the push that the
# sync's own commit causes, to show that the second run writes nothing.
#
# Usage: scripts/demo.sh            (needs Rust and git; installs nothing else)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
command -v cargo >/dev/null || { echo "demo: cargo is missing; install Rust from https://rustup.rs" >&2; exit 1; }
command -v git >/dev/null || { echo "demo: git is missing (apt-get install git)" >&2; exit 1; }

echo "==> building milestone-sync and the GitHub stand-in"
cargo build --quiet --locked -p milestone-sync -p github-standin
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo "$here/target")
bin="$target/debug/milestone-sync"
standin="$target/debug/github-standin"

work=$(mktemp -d)
standin_pid=""
cleanup() { [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

export GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
git init -q --bare -b main "$work/remote.git"
git init -q -b main "$work/workspace"
ws="$work/workspace"
git -C "$ws" remote add origin "$work/remote.git"
echo "# plan" > "$ws/README.md"
git -C "$ws" add -A && git -C "$ws" commit -qm "start" && git -C "$ws" push -q origin main
before=$(git -C "$ws" rev-parse HEAD)
cp -R examples/demo/.ruru "$ws/"
git -C "$ws" add -A && git -C "$ws" commit -qm "plan three epics" && git -C "$ws" push -q origin main
after=$(git -C "$ws" rev-parse HEAD)

token=demo-token
"$standin" --owner acme --repo plan --token "$token" --git-dir "$work/remote.git" --default-branch main --port 0 --port-file "$work/port" &
standin_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
api=$(cat "$work/port")

push_event() {
  printf '{"ref":"refs/heads/main","before":"%s","after":"%s","created":false,"deleted":false,"forced":false,"repository":{"full_name":"acme/plan","default_branch":"main"}}' "$1" "$2" > "$work/event.json"
}

# Runs the binary with the environment a runner gives a Docker action.
run_action() {
  : > "$work/output" ; : > "$work/summary"
  env -i PATH="$PATH" HOME="$work" GITHUB_ACTIONS=true CI=true \
    GITHUB_API_URL="$api" GITHUB_REPOSITORY=acme/plan GITHUB_EVENT_NAME=push \
    GITHUB_EVENT_PATH="$work/event.json" GITHUB_WORKSPACE="$ws" GITHUB_REF=refs/heads/main \
    GITHUB_SHA="$(git -C "$ws" rev-parse HEAD)" GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
    "INPUT_GITHUB-TOKEN=$token" INPUT_PROJECTS-ROOT=.ruru/projects INPUT_PROJECT= INPUT_DRY-RUN=false \
    INPUT_COMMIT=true INPUT_ON-ARTIFACT-REMOVED=close INPUT_CONFLICT-RESOLUTION= INPUT_CREATE-ARTIFACTS=false \
    "$bin" || echo "(exit code $?)"
}

echo
echo "==> run 1: the push that added three epics"
push_event "$before" "$after"
run_action
echo
echo "--- job summary ---"; cat "$work/summary"
echo "--- outputs ---"; grep -v '^\[' "$work/output" | grep -v '^{' || true
echo
echo "--- the commit the sync made on main ---"
git --git-dir "$work/remote.git" log -1 --format='%h %s%n%n%b' main
git --git-dir "$work/remote.git" diff --stat main^ main
git --git-dir "$work/remote.git" diff main^ main -- .ruru/projects/demo/epics/EPIC-001_offline-mode.md | sed -n '1,20p'

echo
echo "==> run 2: the push of the sync's own commit (a PAT or App token triggers it)"
git -C "$ws" pull -q origin main
push_event "$after" "$(git -C "$ws" rev-parse HEAD)"
run_action
echo "--- job summary ---"; cat "$work/summary"
