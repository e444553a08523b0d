# Sourced by scripts/*: makes ./.venv with dsjobs installed (editable) and its dev tools, bytecode compiled
# (this matters where PYTHONDONTWRITEBYTECODE=1 keeps Python from writing .pyc files itself: every start would
# compile from source). uv installs it, so uv's cache also holds the wheels that the local backend's job
# environments and the VS Code extension's server environment reuse offline. The install is skipped while
# pyproject.toml and the extras are unchanged (a stamp in .venv): sourcing this again costs nothing.
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
_dsjobs_stamp="$(cat "$ROOT/pyproject.toml"; echo "extras=${DSJOBS_EXTRAS:-dev}")"
if [ "$(cat "$VENV/.dsjobs-installed" 2>/dev/null)" != "$_dsjobs_stamp" ]; then
  "$VENV/bin/uv" pip install -q --compile-bytecode --python "$VENV/bin/python" -e "$ROOT[${DSJOBS_EXTRAS:-dev}]"
  printf '%s' "$_dsjobs_stamp" >"$VENV/.dsjobs-installed"
fi
unset _dsjobs_stamp
# The editable install leaves src/ to Python, which writes no .pyc here: compile what changed (cheap when current).
"$VENV/bin/python" -m compileall -q "$ROOT/src" >/dev/null
export PATH="$VENV/bin:$PATH"
