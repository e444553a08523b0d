#!/usr/bin/env bash
# Installs Neovim (Debian package `neovim`) for the test driving `dsjobs serve` from Neovim's LSP client.
# Does nothing when `nvim` is already on PATH; without apt-get (or without root) it says so and exits 0:
# the test then skips with a message naming this script.
set -euo pipefail
if command -v nvim >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-neovim: apt-get is not available; install Neovim (>= 0.7) yourself to run the Neovim test" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "install-neovim: not root and no password-less sudo; install the Debian package neovim yourself" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q --no-install-recommends neovim >/dev/null || {
  $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends neovim >/dev/null
}
