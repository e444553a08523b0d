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


def _uv_command() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
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
    """The server's interpreter if its version matches ``X.Y[.Z]``, else ``pythonX.Y`` on PATH."""
    if not python_version:
        return Path(sys.executable)
    parts = python_version.strip().split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise EnvironmentError_(f"python_version {python_version!r} is not of the form X.Y or X.Y.Z")
    major, minor = int(parts[0]), int(parts[1])
    if (major, minor) == sys.version_info[:2]:
        return Path(sys.executable)
    found = shutil.which(f"python{major}.{minor}")
    if found is None:
        raise EnvironmentError_(
            f"Python {major}.{minor} is not available on this machine (the local backend runs "
            f"{sys.version_info.major}.{sys.version_info.minor}; install python{major}.{minor} on PATH)"
        )
    return Path(found)


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
        interpreter = pick_interpreter(python_env.python_version if python_env else "")
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
        if not await self._run([*install, "--offline"], log, check=False):
            if self.offline:
                raise EnvironmentError_(
                    "cannot install the requirements offline (the local backend runs with "
                    "DSJOBS_LOCAL_OFFLINE=1 and uv's cache lacks them): " + ", ".join(requirements)
                )
            await log("not all requirements are in uv's cache; installing from the index")
            await self._run(install, log)
        await asyncio.to_thread((venv / READY_MARKER).write_text, "ok\n")
        await log("python environment is ready")

    @staticmethod
    async def _run(argv: list[str], log: LogSink, *, check: bool = True) -> bool:
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
                await log(line.decode("utf-8", "replace").rstrip())
            code = await process.wait()
        except asyncio.CancelledError:
            process.kill()
            await process.wait()
            raise
        if code != 0 and check:
            raise EnvironmentError_(
                f"building the python environment failed: `{' '.join(argv[:3])}` "
                f"exited with code {code} (see .system.log)"
            )
        return code == 0
