"""Target Python versions: what the service supports, and which stdlib modules exist on which version."""

from __future__ import annotations

import re

SUPPORTED_VERSIONS = ((3, 8), (3, 9), (3, 10), (3, 11), (3, 12))
_VERSION_PATTERN = re.compile(r"3\.\d+(\.\d+)?")

# Top-level stdlib modules by the version that removed them (PEP 594 and earlier removals).
STDLIB_REMOVED: dict[tuple[int, int], frozenset[str]] = {
    (3, 9): frozenset({"_dummy_thread", "dummy_threading"}),
    (3, 10): frozenset({"formatter", "parser", "symbol"}),
    (3, 11): frozenset({"binhex"}),
    (3, 12): frozenset({"asynchat", "asyncore", "distutils", "imp", "smtpd"}),
    (3, 13): frozenset(
        {
            "aifc",
            "audioop",
            "cgi",
            "cgitb",
            "chunk",
            "crypt",
            "imghdr",
            "lib2to3",
            "mailcap",
            "msilib",
            "nis",
            "nntplib",
            "ossaudiodev",
            "pipes",
            "sndhdr",
            "spwd",
            "sunau",
            "telnetlib",
            "uu",
            "xdrlib",
        }
    ),
}
# Top-level stdlib modules by the version that added them.
STDLIB_ADDED: dict[tuple[int, int], frozenset[str]] = {
    (3, 9): frozenset({"graphlib", "zoneinfo"}),
    (3, 11): frozenset({"tomllib"}),
    (3, 14): frozenset({"annotationlib", "compression"}),
}


def format_version(version: tuple[int, int]) -> str:
    """(3, 11) -> "3.11"."""
    return f"{version[0]}.{version[1]}"


def parse_version(text: str) -> tuple[int, int]:
    """ "3.10" or "3.10.4" -> (3, 10); anything else raises ValueError."""
    if not _VERSION_PATTERN.fullmatch(text.strip()):
        raise ValueError(f"unsupported python version: {text!r} (expected 3.X or 3.X.Y)")
    major, minor = text.strip().split(".")[:2]
    return int(major), int(minor)


def target_version(local: tuple[int, int]) -> tuple[tuple[int, int], str | None]:
    """The service's version nearest to the local one, and a warning when they differ."""
    lowest, highest = SUPPORTED_VERSIONS[0], SUPPORTED_VERSIONS[-1]
    nearest = min(max(local, lowest), highest)
    if nearest == local:
        return local, None
    return nearest, (
        f"local Python {format_version(local)} is not supported by DataSphere Jobs "
        f"({format_version(lowest)} to {format_version(highest)}): the job uses Python "
        f"{format_version(nearest)}; set env.python.version to choose another"
    )


def stdlib_availability(module: str, version: tuple[int, int]) -> str | None:
    """None if `module` (a stdlib top-level name) exists on `version`, else why not."""
    for removed_in, names in STDLIB_REMOVED.items():
        if module in names and version >= removed_in:
            return f"removed from the standard library in Python {format_version(removed_in)}"
    for added_in, names in STDLIB_ADDED.items():
        if module in names and version < added_in:
            return f"added to the standard library only in Python {format_version(added_in)}"
    return None


def in_stdlib_of(module: str, version: tuple[int, int]) -> bool:
    """True if `module` is a stdlib module on `version` according to the removal/addition tables."""
    known = any(module in names for names in (*STDLIB_REMOVED.values(), *STDLIB_ADDED.values()))
    return known and stdlib_availability(module, version) is None
