#!/usr/bin/env bash
# Copies the screenshots of the last end-to-end run (build/screenshots, written by scripts/test.sh) over the
# README's pictures (test/e2e/screenshots). A test run never rewrites tracked files; this script is how the
# README's pictures are refreshed, on purpose, after looking at them.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE=build/screenshots
TARGET=test/e2e/screenshots
if ! compgen -G "$SOURCE/*.png" >/dev/null; then
  echo "no screenshots in $SOURCE: run scripts/test.sh (or ./scripts/test) first" >&2
  exit 1
fi
mkdir -p "$TARGET"
for shot in "$SOURCE"/*.png; do
  cp "$shot" "$TARGET/"
  echo "updated $TARGET/$(basename "$shot")"
done
