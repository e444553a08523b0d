"""The job's Python root modules, found from `cmd` as the reference finds them, running nothing.

The reference runs the first word of `cmd` with `--version` to see whether it is an interpreter; we only
recognise interpreters by name (`python`, `python3.11`, ...), which covers every ordinary config, and never
execute the user's files while parsing.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from dsjobs_lsp.core.config.model import PythonModule

_COMMON_PYTHON_NAME = re.compile(r"python([23](\.\d{1,2})?([dmu])?)?(\.exe)?")
_PYTHON_SHEBANGS = ("/usr/bin/env python", "/usr/bin/env -S python")


def is_common_python_name(name: str) -> bool:
    """`python`, `python3`, `python3.11`, `python.exe`... (the reference's pattern)."""
    return _COMMON_PYTHON_NAME.fullmatch(name.lower()) is not None


def _locate(program: str, base_dir: Path) -> Path:
    """Where the reference would find `program`: on PATH when it is a bare name, else relative to base_dir."""
    if os.sep in program or "/" in program:
        candidate = base_dir / program
        if not candidate.exists():
            raise ValueError(f"`{program}` (the first word of `cmd`) was not found")
        if not os.access(candidate, os.X_OK):
            raise ValueError(f"`{program}` (the first word of `cmd`) is not executable")
        return candidate
    found = shutil.which(program)
    if found is None:
        raise ValueError(f"`{program}` (the first word of `cmd`) was not found on PATH")
    return Path(found)


def _has_python_shebang(script: Path) -> bool:
    try:
        with script.open(encoding="utf-8") as handle:
            first_line = handle.readline(1024).strip()
    except (UnicodeDecodeError, OSError):
        return False
    if not first_line.startswith("#!"):
        return False
    hint = first_line[2:].strip()
    if hint.startswith(_PYTHON_SHEBANGS):
        return True
    hint_path = Path(hint)
    return hint_path.exists() and is_common_python_name(hint_path.name)


def main_module(cmd: str, base_dir: Path) -> PythonModule | None:
    """The module `cmd` runs: `python <path>`, `python -m <name>`, or a script with a Python shebang."""
    words = cmd.split()
    if not words:
        raise ValueError("`cmd` is empty")
    first = words[0]
    if is_common_python_name(first):
        if len(words) < 2:
            raise ValueError(f"`{first}` must be followed by the script to run")
        if "-m" in words:
            position = words.index("-m") + 1
            if position >= len(words):
                raise ValueError("`-m` must be followed by a module name")
            return PythonModule(path=words[position], is_name=True)
        return PythonModule(path=words[1])
    located = _locate(first, base_dir)
    if not _has_python_shebang(located):
        return None
    path = first if ("/" in first or os.sep in first) else str(located)
    return PythonModule(path=path)


def root_modules(cmd: str, root_paths: list[str] | None, base_dir: Path) -> list[PythonModule]:
    """Main module from `cmd` plus `root-paths`, absolute paths dropped, sorted by path (as the reference)."""
    found = main_module(cmd, base_dir)
    modules = {found} if found else set()
    modules |= {PythonModule(path=path) for path in root_paths or []}
    if not modules:
        raise ValueError(
            "no Python root module: `cmd` does not start a Python script; list the scripts in "
            "`env.python.root-paths`"
        )
    relative = [module for module in modules if not os.path.isabs(module.path)]
    return sorted(relative, key=lambda module: module.path)
