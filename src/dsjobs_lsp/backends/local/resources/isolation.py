"""Read-only views of datasets for a job: bind mounts in the job's own mount namespace, where permitted.

Where ``unshare -m`` and ``mount --bind -o ro`` work (root, or CAP_SYS_ADMIN: exactly where a job could
otherwise write anywhere), the job's shell is started in a private mount namespace whose first act is to bind
each dataset read-only over its (empty) folder: no copy, and writes fail with EROFS as on a DataSphere dataset
mount; nothing is visible outside the job. Elsewhere the caller makes private copies instead.
Every process of the chain ``exec``s the next, so the job keeps the pid the wrapper recorded.
"""

from __future__ import annotations

import functools
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

PROBE_TIMEOUT_SECONDS = 10.0
MOUNT_FAILED_EXIT = 125
_MOUNT_LOOP = (
    'while [ "$#" -gt 0 ]; do {mount} --bind -o ro -- "$1" "$2" || exit {failed}; shift 2; done; '
    'exec /bin/sh -c "$0"'
)


@functools.cache
def read_only_binds_available() -> bool:
    """Whether this process may give jobs read-only bind mounts (probed once: a mount, a refused write)."""
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if unshare is None or mount is None:
        return False
    with tempfile.TemporaryDirectory(prefix="dsjobs-bind-probe-") as folder:
        source, target = Path(folder, "source"), Path(folder, "target")
        source.mkdir()
        target.mkdir()
        script = _MOUNT_LOOP.format(mount=shlex.quote(mount), failed=MOUNT_FAILED_EXIT)
        probe = f"( : > {shlex.quote(str(target / 'written'))} ) 2>/dev/null && exit 1 || exit 0"
        try:
            done = subprocess.run(
                [*_unshare(unshare), "/bin/sh", "-c", script, probe, str(source), str(target)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=PROBE_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0 and not (source / "written").exists()


def with_read_only_binds(command: str, binds: list[tuple[Path, Path]]) -> str:
    """``command`` (a ``/bin/sh -c`` string) run with each ``(source, target)`` bound read-only first."""
    if not binds:
        return command
    unshare, mount = shutil.which("unshare") or "unshare", shutil.which("mount") or "mount"
    script = _MOUNT_LOOP.format(mount=shlex.quote(mount), failed=MOUNT_FAILED_EXIT)
    arguments = [str(path) for pair in binds for path in pair]
    return shlex.join(["exec", *_unshare(unshare), "/bin/sh", "-c", script, command, *arguments])


def _unshare(path: str) -> list[str]:
    """A new mount namespace whose mounts never propagate back (whatever the system's default)."""
    return [path, "--mount", "--propagation", "private", "--"]
