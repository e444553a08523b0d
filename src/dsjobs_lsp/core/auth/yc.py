"""IAM tokens from the Yandex Cloud CLI (``yc iam create-token``), for federated and service accounts."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from dsjobs_lsp.core.auth.errors import AuthError
from dsjobs_lsp.core.auth.redaction import redact

YC_TIMEOUT_SECONDS = 120.0


def find_yc(configured: str | None) -> str | None:
    """The ``yc`` to run: the configured path, else ``yc`` on PATH, else ``~/yandex-cloud/bin/yc``."""
    if configured:
        return configured
    on_path = shutil.which("yc")
    if on_path:
        return on_path
    default = Path(os.path.expanduser("~")) / "yandex-cloud" / "bin" / "yc"
    return str(default) if os.access(default, os.X_OK) else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


async def yc_create_token(
    yc: str, *, profile: str | None = None, time_limit: float = YC_TIMEOUT_SECONDS
) -> str:
    """Run ``yc iam create-token`` and return the token (its last line of output; update notes come first)."""
    command = [yc, "iam", "create-token", "--no-user-output"]
    if profile:
        command += ["--profile", profile]
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as error:
        raise AuthError(f"cannot run the Yandex Cloud CLI at {yc}: {error.strerror or error}") from None
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), time_limit)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise AuthError(f"`{yc} iam create-token` did not answer within {time_limit:.0f} s") from None
    token = _last_line(stdout.decode(errors="replace"))
    details = redact(_last_line(stderr.decode(errors="replace")))
    if process.returncode != 0:
        suffix = f": {details}" if details else ""
        raise AuthError(f"`{yc} iam create-token` failed with exit code {process.returncode}{suffix}")
    if not token:
        suffix = f" (stderr: {details})" if details else ""
        raise AuthError(f"`{yc} iam create-token` printed no token{suffix}; run `yc init` to log in")
    return token
