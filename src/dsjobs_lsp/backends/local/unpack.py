"""Unpacking a job's ZIP inputs and local modules, executable bits included; which plain files are executable.

Modes: a ZIP entry made on Unix carries its mode in ``external_attr``; an entry with an executable bit
is unpacked executable (``x`` added wherever the file is readable), every other file keeps the default mode.
An entry without a Unix mode, and a single input file (the API's ``File`` has no mode), is executable when it
starts with ``#!`` or is an ELF binary — as it would be in a job container after a ``chmod +x``. A single
input file that ``cmd`` runs as a program (``./run.sh ...`` or ``${VAR} ...`` first in one of its commands)
is executable too: the job could not run otherwise.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

from .paths import entry_in_folder

UNIX_SYSTEM = 3
EXECUTABLE_MAGIC = (b"#!", b"\x7fELF")
_COPY_CHUNK = 1 << 20
_COMMAND_SEPARATORS = re.compile(r"[;&|\n()`]|\$\(")
_PROGRAM = re.compile(r"(?:\./([^\s'\"]+)|\$\{([^}]+)\})(?:\s|$)")


def programs_run_by(cmd: str) -> tuple[set[str], set[str]]:
    """(relative paths run as ``./path``, variables run as ``${VAR}``) in command position of ``cmd``."""
    paths: set[str] = set()
    variables: set[str] = set()
    for command in _COMMAND_SEPARATORS.split(cmd):
        found = _PROGRAM.match(command.strip())
        if found and found.group(1):
            paths.add(os.path.normpath(found.group(1)))
        elif found:
            variables.add(found.group(2))
    return paths, variables


def looks_executable(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a script with a shebang or an ELF binary."""
    return head.startswith(EXECUTABLE_MAGIC)


def file_looks_executable(path: Path) -> bool:
    """``looks_executable`` of the file's first bytes."""
    with open(path, "rb") as stream:
        return looks_executable(stream.read(4))


def make_executable(path: Path) -> None:
    """Add ``x`` wherever ``path`` is readable (``chmod +x`` under the usual umask)."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    os.chmod(path, mode | (mode & 0o444) >> 2)


def _entry_is_executable(info: zipfile.ZipInfo, head: bytes) -> bool:
    mode = info.external_attr >> 16
    if info.create_system == UNIX_SYSTEM and stat.S_IFMT(mode) in (0, stat.S_IFREG) and mode & 0o777:
        return bool(mode & 0o111)
    return looks_executable(head)


def _extract_entry(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.unlink(missing_ok=True)  # maybe an input linked to the store: replace, never write into it
    with zipped.open(info) as src, open(destination, "wb") as dst:
        head = chunk = src.read(_COPY_CHUNK)
        while chunk:
            dst.write(chunk)
            chunk = src.read(_COPY_CHUNK)
    if _entry_is_executable(info, head[:4]):
        make_executable(destination)


def extract_archive(archive: Path, target: Path) -> None:
    """Unpack ``archive`` into ``target`` with executable bits applied; every entry stays inside ``target``
    (``JobPathError`` names an entry that would not)."""
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            if not info.filename.strip("/"):
                continue
            destination = target.joinpath(*entry_in_folder(info.filename).parts)
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
            else:
                _extract_entry(zipped, info, destination)


def unpack_directory_input(archive: Path, destination: Path) -> None:
    """Unpack a ZIP input at ``destination``, with or without the folder's name leading its entries."""
    with zipfile.ZipFile(archive) as zipped:
        names = [n for n in zipped.namelist() if n]
    prefix = destination.name + "/"
    if names and all(n.startswith(prefix) for n in names):
        extract_archive(archive, destination.parent)
    else:
        extract_archive(archive, destination)
