#!/usr/bin/env bash
# Makes the job summary shown in the README (docs/images/summary.md): the demo's three Epics,
# two milestones that already exist on the "GitHub" side, a first sync (the import), then an
# edit on each side and a new Epic, and the reconcile that follows. Runs against the local
# GitHub stand-in: no network, no token. Render the Markdown with a GFM renderer that draws
# Mermaid to refresh docs/images/summary.png.
#
# Usage: scripts/summary-picture.sh [OUT.md]   (default docs/images/summary.md)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/docs/images/summary.md}
cd "$here"
cargo build --quiet --locked -p milestone-sync -p github-standin
target=${CARGO_TARGET_DIR:-$here/target}
bin=$target/debug/milestone-sync
standin=$target/debug/github-standin

work=$(mktemp -d)
spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

export GIT_AUTHOR_NAME=Dana GIT_AUTHOR_EMAIL=dana@example.com GIT_COMMITTER_NAME=Dana GIT_COMMITTER_EMAIL=dana@example.com
ws=$work/workspace
epics=$ws/.ruru/projects/demo/epics
git init -q --bare -b main "$work/remote.git"
git init -q -b main "$ws"
git -C "$ws" remote add origin "$work/remote.git"
cp -R examples/demo/.ruru "$ws/"
echo "# plan" > "$ws/README.md"
sed -i 's/^milestone_target_date = "YYYY-MM-DD".*/milestone_target_date = "2027-03-31"/' "$epics/EPIC-002_billing.md"
git -C "$ws" add -A && git -C "$ws" commit -qm "plan" && git -C "$ws" push -q origin main

# Two milestones the team made on GitHub before: one has an Epic's title (adopted), one none.
cat > "$work/seed.json" <<'JSON'
[{"title": "Sign in with passkeys", "description": "Passkeys on web and mobile.", "due_on": "2026-11-10T12:00:00Z"},
 {"title": "Public API v2", "description": "The v2 REST API, with webhooks.", "due_on": "2027-06-30T12:00:00Z"}]
JSON
"$standin" --owner acme --repo plan --token t --git-dir "$work/remote.git" --default-branch main \
  --port 0 --port-file "$work/port" --seed "$work/seed.json" >/dev/null 2>&1 &
spid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
api=$(cat "$work/port")
echo '{}' > "$work/event.json"

# A workflow_dispatch run, with the environment a runner gives a Docker action.
reconcile() {
  : > "$work/summary"
  env -i PATH="$PATH" HOME="$work" GITHUB_ACTIONS=true GITHUB_API_URL="$api" GITHUB_SERVER_URL=https://github.com \
    GITHUB_REPOSITORY=acme/plan GITHUB_EVENT_NAME=workflow_dispatch GITHUB_EVENT_PATH="$work/event.json" \
    GITHUB_WORKSPACE="$ws" GITHUB_REF=refs/heads/main GITHUB_SHA="$(git -C "$ws" rev-parse HEAD)" \
    GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
    "INPUT_GITHUB-TOKEN=t" INPUT_WRITE-DELAY-MS=0 INPUT_CREATE-ARTIFACTS=true "$bin" >/dev/null 2>&1
}
reconcile
git -C "$ws" pull -q origin main

# On GitHub: the billing milestone is renamed and moved to a later date.
number=$(curl -fsS -H "Authorization: Bearer t" "$api/repos/acme/plan/milestones?state=all" |
  python3 -c 'import json, sys; print(next(m["number"] for m in json.load(sys.stdin) if m["title"] == "Usage-based billing"))')
curl -fsS -X PATCH -H "Authorization: Bearer t" -d '{"title": "Usage-based billing (metered)", "due_on": "2027-04-30T12:00:00Z"}' \
  "$api/repos/acme/plan/milestones/$number" >/dev/null
# In the files: offline mode moves to February, and a new Epic.
sed -i 's/^target_date = "2027-01-15"/target_date = "2027-02-28"/' "$epics/EPIC-001_offline-mode.md"
sed -e 's/EPIC-001/EPIC-005/; s/Mobile app: offline mode/Team workspaces/; s/🔵 In Progress/🟡 To Do/' \
  -e 's/^target_date = .*/target_date = "2027-05-15"/' -e '/^related_milestone/d; /^milestone_sync_base/d' \
  "$epics/EPIC-001_offline-mode.md" > "$epics/EPIC-005_workspaces.md"
git -C "$ws" add -A && git -C "$ws" commit -qm "Offline mode moves to February; team workspaces" && git -C "$ws" push -q origin main
reconcile

cp "$work/summary" "$out"
echo "wrote $out"
