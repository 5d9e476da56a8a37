#!/usr/bin/env bash
# Runs the action's main job (a push sync) on the demo workspace in examples/demo, against
# the local GitHub stand-in: no network, no token. Then runs it again, as the push that the
# sync's own commit causes, to show that the second run writes nothing.
#
# Usage: scripts/demo.sh            (needs Rust and git; installs nothing else)
#
# EPIC-002 keeps its template's placeholder date ("YYYY-MM-DD") on purpose, as real plans
# do: the demo shows the warning it gets, and that everything else syncs.
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

# The outputs' descriptions in action.yml, one "name<TAB>description" line each.
output_descriptions() {
  awk '
    function flush() { if (name != "") { gsub(/^"|"$/, "", desc); print name "\t" desc }; name = "" }
    /^[^ #]/ { section = $0; next }
    section != "outputs:" { next }
    /^  [a-z-]+:$/ { flush(); name = substr($1, 1, length($1) - 1); desc = ""; folded = 0; next }
    /^    description: / { d = substr($0, index($0, ":") + 2); if (d ~ /^>-?$/) folded = 1; else desc = d; next }
    folded && /^      / { sub(/^ +/, ""); desc = desc (desc == "" ? "" : " ") $0; next }
    END { flush() }
  ' action.yml
}

# The outputs the run wrote (GITHUB_OUTPUT), each with what it holds, from action.yml.
show_outputs() {
  echo "--- outputs (a later step reads steps.<id>.outputs.<name>; what each holds, from action.yml) ---"
  awk -F '\t' '
    NR == FNR { d = $2; sub(/^Number of /, "", d); desc[$1] = d; next }
    delim != "" { if ($0 == delim) delim = ""; else print "    " $0; next }
    /^[A-Za-z-]+<</ { at = index($0, "<<"); name = substr($0, 1, at - 1); delim = substr($0, at + 2)
                      print name ": " desc[name]; next }
    { at = index($0, "="); printf "%-22s %s\n", $0, desc[substr($0, 1, at - 1)] }
  ' <(output_descriptions) "$work/output"
}

cat <<'TEXT'

The demo's plan (examples/demo/.ruru): EPIC-001 is in progress, EPIC-003 is done (so its
milestone is created closed), and EPIC-002 keeps its template's placeholder date
"YYYY-MM-DD" on purpose: expect one warning for it on each run ("needs attention"), no due
date on its milestone, and everything else synced.

Each run prints the step's log as the Actions log holds it. On GitHub, "::group::NAME" …
"::endgroup::" fold into a section named NAME, and "::warning file=F,line=N::TEXT" becomes
an annotation on line N of F. Then come the job summary (Markdown) and the outputs.
TEXT

echo
echo "==> run 1: the push that added three epics"
push_event "$before" "$after"
run_action
echo
echo "--- job summary ---"; cat "$work/summary"
show_outputs
echo
echo "--- the commit the sync made on main: each file records its new milestone (related_milestone) ---"
git --git-dir "$work/remote.git" log -1 --format='%h %s%n%n%b' main
git --git-dir "$work/remote.git" diff --stat main^ main
git --git-dir "$work/remote.git" diff main^ main -- .ruru/projects/demo/epics/EPIC-001_offline-mode.md | sed -n '1,20p'

echo
echo "==> run 2: the push of the sync's own commit (a PAT or App token triggers it)"
git -C "$ws" pull -q origin main
push_event "$after" "$(git -C "$ws" rev-parse HEAD)"
run_action
echo "--- job summary ---"; cat "$work/summary"
echo
echo "Nothing to write: the milestones and the files agree. EPIC-002's warning stays until its"
echo "milestone_target_date holds a date or goes."
