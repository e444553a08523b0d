"""Where a file path of a job's parameters lives inside the job's directory.

A path that stays inside the working directory (``data/x.csv``, ``a/../b``) lives under ``work/`` (the job's
cwd). A path that leaves it — absolute (``/usr/share/params.json``, ``//etc/x``) or climbing out
(``../shared/x``) — lives under ``external/`` of the job's directory: ``external/root/usr/share/params.json``,
``external/up1/shared/x``. The job reaches those through its ``${VAR}``; nothing is ever placed or read
outside the job's directory, whatever the path.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

WORK_DIR = "work"
EXTERNAL_DIR = "external"


class JobPathError(ValueError):
    """A path cannot name a file of the job (empty, or the root itself)."""


def _normalized(path: str) -> tuple[bool, list[str]]:
    """(absolute?, parts) of ``path`` without ``.``, empty parts and ``x/..`` pairs (``/..`` is ``/``)."""
    text = path.replace("\\", "/")
    absolute = text.startswith("/")
    parts: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part != "..":
            parts.append(part)
        elif parts and parts[-1] != "..":
            parts.pop()
        elif not absolute:
            parts.append(part)
    return absolute, parts


def is_inside_work_dir(path: str) -> bool:
    """True when ``path`` is relative and stays inside the working directory once normalized."""
    absolute, parts = _normalized(path)
    return not absolute and ".." not in parts


def path_in_job(path: str) -> PurePosixPath:
    """``path`` as a path relative to the job's directory: ``work/...`` or ``external/...``.

    Raises ``JobPathError`` for a path naming no file (``""``, ``.``, ``/``, ``..``).
    """
    absolute, parts = _normalized(path)
    ups = 0
    while ups < len(parts) and parts[ups] == "..":
        ups += 1
    rest = parts[ups:]
    if not rest:
        raise JobPathError(f"file path {path!r} does not name a file")
    if absolute:
        return PurePosixPath(EXTERNAL_DIR, "root", *rest)
    if ups:
        return PurePosixPath(EXTERNAL_DIR, f"up{ups}", *rest)
    return PurePosixPath(WORK_DIR, *rest)


def entry_in_folder(name: str) -> PurePosixPath:
    """A ZIP entry name as a path inside the folder it is unpacked into (leading ``/`` dropped, as
    ``zipfile.extractall`` does). Raises ``JobPathError`` for a name that climbs out with ``..``."""
    _, parts = _normalized(name)
    if not parts or parts[0] == "..":
        raise JobPathError(f"archive entry {name!r} would land outside the folder it is unpacked into")
    return PurePosixPath(*parts)


def job_file(job_dir: Path, path: str) -> Path:
    """The file a parameter's ``path`` names, inside ``job_dir`` (see ``path_in_job``)."""
    return job_dir.joinpath(*path_in_job(path).parts)
