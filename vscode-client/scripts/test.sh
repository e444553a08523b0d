#!/usr/bin/env bash
# Tests of the VS Code client: installs what it needs (apt chromium + code-server deps only if missing, npm ci,
# code-server cached in ~/.cache/dsjobs-tests), type-checks and lints, builds and packages the .vsix, then runs
# the unit tests and the end-to-end suite in real VS Code (code-server + headless Chromium) in one node --test
# run, so the closing lines count both. Expects `python3` on PATH to import dsjobs_lsp (the repo's .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[vscode-client] $*" >&2; }

if ! python3 -c "import dsjobs_lsp" 2>/dev/null; then
  log "python3 on PATH ($(command -v python3)) cannot import dsjobs_lsp; activate the repo's .venv first"
  exit 1
fi

DSJOBS_CODE_SERVER_DIR="$(bash scripts/install-deps.sh | tail -n 1)"
export DSJOBS_CODE_SERVER_DIR

log "npm ci"
npm ci --no-audit --no-fund --loglevel=error >&2

log "type-check and lint"
npx tsc -p . >&2
npx eslint src webview test >&2

log "build and package"
npm run --silent package >&2

log "unit and end-to-end tests"
node esbuild.mjs --tests
node --test --test-concurrency=1 dist-test/unit/ dist-test/e2e/
