"""The local backend as tests and benchmarks use it: in process, as a daemon, and the dirs around it.

- `running_local_server`: an offline `LocalServer` on 127.0.0.1 (free port), stopped on exit;
- `isolated_env`: the environment of a `dsjobs` process (CLI, language server) with private data/state dirs,
  an offline local backend and no user config or tokens from the outside;
- `stop_local_daemon`: stops the daemon such a process started (by the pid in `<data dir>/server.json`);
- `build_job_venv` / `copy_example`: a venv with PyYAML from uv's cache, and a copy of `examples/train`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from dsjobs_lsp.backends.local import LocalServer
from tests.support.isolation import CLOSED_METADATA_ADDR

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train"
OUTSIDE_SETTINGS = ("DSJOBS_PROJECT", "YC_TOKEN", "YC_OAUTH_TOKEN", "YC_IAM_TOKEN", "YC_SA_KEY_FILE")


@asynccontextmanager
async def running_local_server(data_dir: Path) -> AsyncIterator[LocalServer]:
    """An offline local backend in this process on a free port of 127.0.0.1, its data in `data_dir`."""
    local = LocalServer(data_dir, offline=True)
    await local.start()
    try:
        yield local
    finally:
        await local.stop(0)


def isolated_env(root: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) pointed at `root/data` and `root/state`, offline.

    The user config file is `root/no-user-config.yaml` (absent), project/token variables from the outside
    are dropped and the metadata probe points at a closed loopback port, so the process sees only what the
    test gives it.
    """
    env = dict(os.environ if base is None else base)
    env.update(
        DSJOBS_LOCAL_DATA_DIR=str(root / "data"),
        DSJOBS_STATE_DIR=str(root / "state"),
        DSJOBS_LOCAL_OFFLINE="1",
        DSJOBS_CONFIG=str(root / "no-user-config.yaml"),
        DSJOBS_BACKEND="local",
        YC_METADATA_ADDR=CLOSED_METADATA_ADDR,
    )
    for name in OUTSIDE_SETTINGS:
        env.pop(name, None)
    return env


def stop_local_daemon(data_dir: Path, wait_s: float = 10.0) -> None:
    """SIGTERM the local backend daemon of `data_dir`, wait up to `wait_s` for it to exit, then SIGKILL.

    Does nothing when no daemon was started there (no `server.json`) or it is already gone.
    """
    info_file = data_dir / "server.json"
    try:
        pid = int(json.loads(info_file.read_text())["pid"])
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        return
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def build_job_venv(root: Path) -> Path:
    """The interpreter of `root/job-venv`, a venv with PyYAML installed from uv's cache only (built once).

    The analysis pins the versions of the interpreter it inspects, so a job analysed with this venv asks
    for requirements that the offline local backend can install from uv's cache.
    """
    venv = root / "job-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
        subprocess.run(
            [uv, "pip", "install", "-q", "--offline", "--python", str(python), "pyyaml"], check=True, env=env
        )
    return python


def copy_example(dest: Path) -> Path:
    """A fresh copy of `examples/train` at `dest` (without outputs of earlier runs)."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("model.json", "outputs", "__pycache__"))
    return dest
