#!/usr/bin/env bash
# Tests of the VS Code client: installs what it needs (apt chromium + code-server deps only if missing, npm ci,
# code-server cached in ~/.cache/dsjobs-tests), type-checks and lints, builds the server wheel and packages the
# .vsix, then runs the unit tests and the end-to-end suite in real VS Code (code-server + headless Chromium) in
# one node --test run, so the closing lines count both.
#
# Independent of the caller's PATH and shell: the repo's .venv provides uv; the e2e suite pins the interpreter
# it tests in the extension's settings (DSJOBS_E2E_PYTHON: the oldest Python the server supports, 3.10 where
# present, else the system's python3), and the extension installs the server from the .vsix's wheel offline from
# uv's cache, which this script fills first for each Python the suite uses (network only for what is missing,
# as scripts/lib/venv.sh does). Screenshots go to build/screenshots (untracked); scripts/refresh-screenshots.sh
# copies them to the README's pictures.
#
# Checked from a fresh clone with the default HOME (root) on a busy 2-core machine (load average 7-10 from other
# work throughout): `./scripts/test` passed, the VS Code part in about 6 minutes. The e2e waits are generous for
# that reason; none is a timing assertion.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[vscode-client] $*" >&2; }

source ../scripts/lib/venv.sh

DSJOBS_CODE_SERVER_DIR="$(bash scripts/install-deps.sh | tail -n 1)"
export DSJOBS_CODE_SERVER_DIR

# The oldest Python the server supports (requires-python in pyproject.toml), when present; empty otherwise.
oldest_python() {
  local min candidate
  min="$(sed -n 's/^requires-python = ">=\([0-9]*\.[0-9]*\)".*/\1/p' ../pyproject.toml)"
  for candidate in "$(command -v "python$min" || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$min".*/bin/python3; do
    if [[ -x "$candidate" ]] &&
      "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$min'.split('.'))))" 2>/dev/null; then
      "$candidate" -c "import sys; print(sys.executable)"
      return
    fi
  done
}

# The python3 VS Code's extension host finds: a login shell's, with a HOME without dotfiles (as the harness runs it).
login_shell_python() {
  local home
  home="$(mktemp -d)"
  HOME="$home" bash -lc 'command -v python3'
  rm -rf "$home"
}

# Puts in uv's cache everything the server's wheel needs on this Python (the e2e suite installs offline).
warm_uv_cache() {
  local venv
  venv="$(mktemp -d)/server-env"
  uv venv -q --python "$1" "$venv"
  uv pip install -q --python "$venv/bin/python" dist/server/*.whl
  rm -rf "$(dirname "$venv")"
}

log "npm ci"
npm ci --no-audit --no-fund --loglevel=error >&2

log "type-check and lint"
npx tsc -p . >&2
npx eslint src webview test >&2

log "build the server wheel and package the .vsix (its file list: build/package.log)"
mkdir -p build
npm run --silent package >build/package.log 2>&1 || { cat build/package.log >&2; exit 1; }

DSJOBS_E2E_PYTHON="${DSJOBS_E2E_PYTHON:-$(oldest_python)}"
export DSJOBS_E2E_PYTHON
for python in $DSJOBS_E2E_PYTHON "$(login_shell_python)"; do
  log "uv cache for the server on $python"
  warm_uv_cache "$python"
done

log "unit and end-to-end tests"
node esbuild.mjs --tests
node --test --test-concurrency=1 dist-test/unit/ dist-test/e2e/
