"""The official `datasphere` 0.10.0 CLI, installed once into a cached venv of its own.

It pins protobuf 7 while yandexcloud pins protobuf<7, so it never shares our environment. Tests and
benchmarks use it as the reference: its config parser, its envzy analysis, its whole CLI.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

REFERENCE_VERSION = "0.10.0"
CACHE_ROOT = Path(os.environ.get("DSJOBS_TEST_CACHE", Path.home() / ".cache" / "dsjobs-tests"))


def reference_venv() -> Path:
    """Path of a venv holding `datasphere==0.10.0`, built on first use (under a lock) and reused."""
    venv = CACHE_ROOT / f"datasphere-{REFERENCE_VERSION}"
    ready = venv / ".ready"
    if ready.exists():
        return venv
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / f".datasphere-{REFERENCE_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run(
            [uv, "venv", "--python", sys.executable, str(venv)], check=True, env=env, capture_output=True
        )
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "--python",
                str(venv / "bin" / "python"),
                f"datasphere=={REFERENCE_VERSION}",
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        ready.write_text("ok\n")
    return venv


def reference_python() -> Path:
    """The interpreter of the reference venv."""
    return reference_venv() / "bin" / "python"
