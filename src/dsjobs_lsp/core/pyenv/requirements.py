"""Requirement lines: reading a requirements file, pinning installed versions, `generate-requirements`."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from dsjobs_lsp.core.pyenv.interpreter import default_interpreter, run_probe
from dsjobs_lsp.core.pyenv.models import PipOptions, PythonEnvError

logger = logging.getLogger(__name__)

_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION = re.compile(r"^(--?[A-Za-z][A-Za-z-]*)(?:[=\s]\s*(.*))?$")
_VALUE_OPTIONS = {
    "-i": "index_url",
    "--index-url": "index_url",
    "--extra-index-url": "extra_index_urls",
    "--trusted-host": "trusted_hosts",
    "-r": "include",
    "--requirement": "include",
}


class RequirementsError(PythonEnvError):
    """A requirements file line that cannot be used; the message starts with `file:line:`."""


@dataclass
class RequirementsFile:
    """Requirement lines of a file (its `-r` includes expanded) and the pip options it set."""

    requirements: list[str] = field(default_factory=list)
    pip_options: PipOptions = field(default_factory=PipOptions)


@dataclass
class _Parser:
    result: RequirementsFile = field(default_factory=RequirementsFile)
    seen_names: dict[str, str] = field(default_factory=dict)
    open_files: list[Path] = field(default_factory=list)

    def parse_file(self, path: Path, included_from: str | None = None) -> None:
        path = path.resolve()
        if path in self.open_files:
            raise RequirementsError(f"{included_from}: `-r {path.name}` includes itself in a cycle")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            where = f"{included_from}: " if included_from else ""
            raise RequirementsError(f"{where}cannot read requirements file {path}: {error}") from None
        self.open_files.append(path)
        for number, line in _logical_lines(text):
            self.parse_line(line, f"{path.name}:{number}", path.parent)
        self.open_files.pop()

    def parse_line(self, line: str, where: str, folder: Path) -> None:
        if line.startswith("-"):
            self.parse_option(line, where, folder)
            return
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            raise RequirementsError(f"{where}: invalid requirement {line!r}: {error}") from None
        if requirement.marker:
            raise RequirementsError(f"{where}: requirement markers are not supported ({line})")
        if requirement.url:
            raise RequirementsError(f"{where}: requirement URLs are not supported ({line})")
        name = canonicalize_name(requirement.name)
        if name in self.seen_names:
            raise RequirementsError(
                f"{where}: {requirement.name} is already required at {self.seen_names[name]}"
            )
        self.seen_names[name] = where
        self.result.requirements.append(line)

    def parse_option(self, line: str, where: str, folder: Path) -> None:
        match = _OPTION.match(line)
        option, value = (match.group(1), (match.group(2) or "").strip()) if match else (line, "")
        if option == "--no-deps" and not value:
            self.result.pip_options = self.result.pip_options.merged(PipOptions(no_deps=True))
            return
        target = _VALUE_OPTIONS.get(option)
        if target is None:
            raise RequirementsError(
                f"{where}: option {option} is not supported (allowed: --index-url, "
                "--extra-index-url, --trusted-host, --no-deps, -r)"
            )
        if not value:
            raise RequirementsError(f"{where}: option {option} needs a value")
        if target == "include":
            self.parse_file(folder / value, included_from=where)
            return
        given = {
            "index_url": PipOptions(index_url=value),
            "extra_index_urls": PipOptions(extra_index_urls=(value,)),
            "trusted_hosts": PipOptions(trusted_hosts=(value,)),
        }[target]
        self.result.pip_options = self.result.pip_options.merged(given)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each non-empty line, comments removed, `\\` continuations joined."""
    lines: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw).strip()
        if pending is not None:
            number, line = pending[0], (pending[1] + " " + line).strip()
            pending = None
        if line.endswith("\\"):
            pending = (number, line[:-1].strip())
            continue
        if line:
            lines.append((number, line))
    if pending is not None and pending[1]:
        lines.append(pending)
    return lines


def parse_requirements_file(path: Path) -> RequirementsFile:
    """Reads a requirements file like the reference CLI: specifiers with extras, `--extra-index-url`,
    `--trusted-host`, `--no-deps` (plus comments, `--index-url` and `-r` includes, which it lacks).

    Markers, URLs and other options raise `RequirementsError` naming the file and line.
    """
    parser = _Parser()
    parser.parse_file(path)
    return parser.result


async def read_requirements_file(path: Path) -> RequirementsFile:
    """`parse_requirements_file` off the event loop."""
    return await asyncio.to_thread(parse_requirements_file, path)


def pin(name: str, version: str) -> tuple[str, str | None]:
    """`name==version` installable from an index, and a warning when a local label (`+cpu`) was stripped."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return f"{name}=={version}", f"{name} has a non-standard version {version!r}: pinned as it is"
    if parsed.local is None:
        return f"{name}=={version}", None
    public = parsed.public
    return f"{name}=={public}", (
        f"{name}=={version}: local version label '+{parsed.local}' is not installable from an index; "
        f"pinned as {name}=={public} (add the index that serves the +{parsed.local} build to "
        "env.python.pip.extra-index-urls if you need it)"
    )


def _existing_roots(files: list[Path], working_dir: Path) -> tuple[Path, list[Path]]:
    working_dir = working_dir.resolve()
    roots = [(working_dir / f).resolve() for f in files]
    for given, root in zip(files, roots, strict=True):
        if not root.is_file():
            raise PythonEnvError(f"root module {given} not found (working directory {working_dir})")
    return working_dir, roots


async def generate_requirements(
    files: list[Path], *, interpreter: Path | None = None, working_dir: Path
) -> list[str]:
    """Pinned requirements (`PyYAML==6.0.3`) of the code reachable from `files`, found in `interpreter`.

    Warnings (missing modules, stripped version labels, dynamic imports) go to this module's logger.
    """
    working_dir, roots = await asyncio.to_thread(_existing_roots, files, working_dir)
    answer = await run_probe(
        interpreter or default_interpreter(working_dir), roots=roots, working_dir=working_dir
    )
    pinned: list[str] = []
    for item in answer["requirements"]:
        line, warning = pin(item["name"], item["version"])
        pinned.append(line)
        if warning:
            logger.warning("%s", warning)
    for note in answer["notes"]:
        logger.warning("%s", note)
    for missing in answer["missing"]:
        if not missing["optional"]:
            logger.warning("%s: module '%s' is imported but not installed", missing["where"], missing["name"])
    return pinned
