"""Choosing the user's interpreter and running the probe script inside it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

from dsjobs_lsp.core.pyenv.models import PythonEnvError

PROBE_SCRIPT = Path(__file__).with_name("probe.py")
PROBE_TIMEOUT_SECONDS = 120.0


def _venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


USER_PYTHON_ENV = "DSJOBS_PYTHON"
"""Names the user's interpreter when this process runs elsewhere (the VS Code extension's private server
environment): analysis then falls back to it instead of this process's own Python."""


def default_interpreter(working_dir: Path) -> Path:
    """The interpreter the user runs the project with: `working_dir/.venv`, then `$VIRTUAL_ENV`, then
    `$DSJOBS_PYTHON`, then ours."""
    candidates = [_venv_python(working_dir / ".venv")]
    virtual_env = os.environ.get("VIRTUAL_ENV")
    if virtual_env:
        candidates.append(_venv_python(Path(virtual_env)))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return Path(os.environ.get(USER_PYTHON_ENV) or sys.executable)


async def run_probe(interpreter: Path, *, roots: list[Path], working_dir: Path) -> dict[str, Any]:
    """Runs the stdlib-only probe in `interpreter` (its site-packages visible) and returns its JSON answer."""
    request = json.dumps({"working_dir": str(working_dir), "roots": [str(r) for r in roots]}).encode()
    try:
        process = await asyncio.create_subprocess_exec(
            str(interpreter),
            "-B",
            str(PROBE_SCRIPT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(working_dir),
        )
    except OSError as error:
        raise PythonEnvError(f"cannot start the Python interpreter {interpreter}: {error.strerror}") from None
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(request), PROBE_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        raise PythonEnvError(
            f"Python environment analysis in {interpreter} took over {PROBE_TIMEOUT_SECONDS:.0f} s"
        ) from None
    finally:
        if process.returncode is None:
            with suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    if process.returncode != 0:
        tail = stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise PythonEnvError(
            f"Python environment analysis failed in {interpreter} "
            f"(exit code {process.returncode}): " + " | ".join(tail)
        )
    try:
        answer: dict[str, Any] = json.loads(stdout)
    except ValueError:
        raise PythonEnvError(
            f"Python environment analysis in {interpreter} printed no valid answer"
        ) from None
    return answer
