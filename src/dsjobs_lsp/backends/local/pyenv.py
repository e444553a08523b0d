"""Python environments for jobs: the server's interpreter, or a venv built with uv and cached by its inputs.

A venv is keyed by (interpreter, Python version, normalised requirements, pip options), built under a file
lock into a temporary dir and published with a ready-marker written last, so concurrent jobs and servers
build it once and every later job reuses it.

Local extension: an index URL (``index_url`` / ``extra_index_urls``) that is a ``file://`` directory is
passed to uv as ``--find-links`` (a flat folder of wheels), which lets offline setups install local wheels.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO
from urllib.parse import urlparse

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

READY_MARKER = ".dsjobs-ready"
LogSink = Callable[[str], Awaitable[None]]


class EnvironmentError_(RuntimeError):
    """The job's Python environment cannot be provided; the message says why."""


UV_REASON_LINES = 12
UV_CROSS_MARK = "\u00d7"
"""The mark uv starts its diagnostics with (MULTIPLICATION SIGN)."""
PROBE_TIMEOUT_SECONDS = 20.0
_VERSION_PROBE = "import sys; print('%d.%d' % sys.version_info[:2])"
_probed: dict[Path, str] = {}


def _uv_command() -> list[str]:
    """The ``uv`` installed with dsjobs (the ``uv`` package's binary), else one beside this Python."""
    try:
        from uv import find_uv_bin

        return [find_uv_bin()]
    except (ImportError, FileNotFoundError):
        pass
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "uv"]


def normalise_requirement(requirement: str) -> str:
    """Lower-case the distribution name and drop spaces, so equal requirements hash equally."""
    text = requirement.strip()
    match = re.match(r"^([A-Za-z0-9._-]+)(.*)$", text)
    if not match:
        return text
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() + match.group(2).replace(" ", "")


def pick_interpreter(python_version: str) -> Path:
    """An interpreter of version ``X.Y[.Z]`` that really runs (blocking: it runs the candidates).

    The server's own interpreter when it matches; else each ``pythonX.Y`` on PATH and under pyenv's
    versions, in that order, each run once to check its version (a broken pyenv shim is never picked).
    """
    if not python_version:
        return Path(sys.executable)
    parts = python_version.strip().split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise EnvironmentError_(f"python_version {python_version!r} is not of the form X.Y or X.Y.Z")
    wanted = f"{int(parts[0])}.{int(parts[1])}"
    if wanted == f"{sys.version_info.major}.{sys.version_info.minor}":
        return Path(sys.executable)
    rejected: list[str] = []
    for candidate in _candidates(wanted):
        found = _probe_version(candidate)
        if found == wanted:
            return candidate
        rejected.append(f"{candidate} ({found})")
    tried = f"; tried {', '.join(rejected)}" if rejected else ""
    raise EnvironmentError_(
        f"Python {wanted} is not available on this machine (the local backend runs "
        f"{sys.version_info.major}.{sys.version_info.minor}; install python{wanted} on PATH or with pyenv"
        f"{tried})"
    )


def _candidates(version: str) -> list[Path]:
    name = f"python{version}"
    found: list[Path] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder and os.access(Path(folder) / name, os.X_OK):
            found.append(Path(folder) / name)
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if pyenv_root.is_dir():
        for install in sorted(pyenv_root.glob(f"{version}*"), reverse=True):
            if (install / "bin" / name).exists():
                found.append(install / "bin" / name)
    return list(dict.fromkeys(found))


def _probe_version(interpreter: Path) -> str:
    """The ``X.Y`` an interpreter reports when run (cached per path), or why it cannot say (not cached:
    a shim fixed later is tried again)."""
    if interpreter in _probed:
        return _probed[interpreter]
    try:
        run = subprocess.run(
            [str(interpreter), "-c", _VERSION_PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"broken: {error}"
    version = run.stdout.strip() if run.returncode == 0 else ""
    if not version:
        return f"broken: {(run.stderr.strip().splitlines() or [f'exit code {run.returncode}'])[-1]}"
    _probed[interpreter] = version
    return version


def uv_reason(output: list[str]) -> str:
    """uv's own explanation in its output (from its first ``error:`` or cross-mark line), else its last
    lines."""
    lines = [line.rstrip() for line in output if line.strip()]
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("error:", UV_CROSS_MARK)):
            return "\n".join(lines[index : index + UV_REASON_LINES])
    return "\n".join(lines[-UV_REASON_LINES:])


def _pip_arguments(options: jobs_pb2.PipOptions) -> list[str]:
    args: list[str] = []
    urls = ([("--index-url", options.index_url)] if options.index_url else []) + [
        ("--extra-index-url", url) for url in options.extra_index_urls
    ]
    for flag, url in urls:
        parsed = urlparse(url)
        if parsed.scheme == "file" or (not parsed.scheme and Path(url).is_dir()):
            args += ["--find-links", parsed.path if parsed.scheme else url]
        else:
            args += [flag, url]
    for host in options.trusted_hosts:
        args += ["--allow-insecure-host", host]
    if options.no_deps:
        args.append("--no-deps")
    return args


class EnvironmentCache:
    """Gives each job the bin dir to put first on PATH."""

    def __init__(self, root: Path, *, offline: bool) -> None:
        self.root = root
        self.offline = offline

    async def bin_dir(self, python_env: jobs_pb2.PythonEnv | None, log: LogSink) -> Path:
        """The bin dir of the job's environment (building the venv when it is not cached yet)."""
        requirements = sorted(
            normalise_requirement(r) for r in (python_env.requirements if python_env else []) if r.strip()
        )
        version = python_env.python_version if python_env else ""
        interpreter = await asyncio.to_thread(pick_interpreter, version)
        if not requirements:
            return await asyncio.to_thread(self._interpreter_shims, interpreter)
        assert python_env is not None
        pip_args = _pip_arguments(python_env.pip_options)
        key = hashlib.sha256(
            json.dumps(
                {
                    "interpreter": str(interpreter.resolve()),
                    "version": python_env.python_version,
                    "requirements": requirements,
                    "pip": pip_args,
                }
            ).encode()
        ).hexdigest()[:24]
        venv = self.root / f"venv-{key}"
        if (venv / READY_MARKER).exists():
            await log(f"reusing cached python environment {venv.name}")
            return venv / "bin"
        lock = await asyncio.to_thread(self._lock, key)
        try:
            if (venv / READY_MARKER).exists():
                await log(f"reusing cached python environment {venv.name}")
                return venv / "bin"
            await self._build(venv, interpreter, requirements, pip_args, log)
        finally:
            lock.close()
        return venv / "bin"

    def _lock(self, key: str) -> TextIO:
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / f"venv-{key}.lock", "w")  # noqa: SIM115 - the caller closes it
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def _interpreter_shims(self, interpreter: Path) -> Path:
        """A dir where ``python`` and ``python3`` point at ``interpreter``."""
        digest = hashlib.sha256(str(interpreter).encode()).hexdigest()[:16]
        shims = self.root / f"shims-{digest}"
        if not (shims / "python").exists():
            staging = self.root / f".shims-{digest}-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            for name in ("python", "python3"):
                (staging / name).symlink_to(interpreter)
            try:
                os.rename(staging, shims)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        return shims

    async def _build(
        self, venv: Path, interpreter: Path, requirements: list[str], pip_args: list[str], log: LogSink
    ) -> None:
        await asyncio.to_thread(shutil.rmtree, venv, True)
        await log(f"building python environment ({len(requirements)} requirements) with {interpreter}")
        uv = _uv_command()
        await self._run([*uv, "venv", "--quiet", "--python", str(interpreter), str(venv)], log)
        install = [*uv, "pip", "install", "--python", str(venv / "bin" / "python"), *pip_args, *requirements]
        offline_output: list[str] = []
        if not await self._run([*install, "--offline"], log, check=False, output=offline_output):
            if self.offline:
                raise EnvironmentError_(
                    "cannot install the requirements offline (the local backend runs with "
                    "DSJOBS_LOCAL_OFFLINE=1 and uv's cache lacks them): "
                    + ", ".join(requirements)
                    + f"\nuv says:\n{uv_reason(offline_output)}"
                )
            await log("not all requirements are in uv's cache; installing from the index")
            await self._run(install, log)
        await asyncio.to_thread((venv / READY_MARKER).write_text, "ok\n")
        await log("python environment is ready")

    @staticmethod
    async def _run(
        argv: list[str], log: LogSink, *, check: bool = True, output: list[str] | None = None
    ) -> bool:
        """Run a uv command, its output going to the job's system log (and to ``output``); whether it
        succeeded. With ``check``, a failure raises ``EnvironmentError_`` with uv's reason."""
        lines = output if output is not None else []
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
        env.pop("VIRTUAL_ENV", None)
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
        assert process.stdout is not None
        try:
            async for line in process.stdout:
                text = line.decode("utf-8", "replace").rstrip()
                lines.append(text)
                await log(text)
            code = await process.wait()
        except asyncio.CancelledError:
            process.kill()
            await process.wait()
            raise
        if code != 0 and check:
            command = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv[:3]))
            raise EnvironmentError_(
                f"building the python environment failed: `{command}` exited with code {code}:\n"
                f"{uv_reason(lines)}"
            )
        return code == 0
