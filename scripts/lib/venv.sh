# Sourced by scripts/*: makes ./.venv with dsjobs installed (editable) and its dev tools.
# uv installs it, so uv's cache also holds the wheels that the local backend's job environments reuse offline.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if [ ! -x "$VENV/bin/uv" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check uv
fi
export UV_PYTHON_DOWNLOADS=never
"$VENV/bin/uv" pip install -q --python "$VENV/bin/python" -e "$ROOT[${DSJOBS_EXTRAS:-dev}]"
export PATH="$VENV/bin:$PATH"
