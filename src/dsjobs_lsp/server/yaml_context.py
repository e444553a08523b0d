"""Where the cursor is in a block-style YAML document, from indentation alone (so broken documents work too).

`cursor_context` answers: which mapping keys enclose the cursor (`("env", "python")`), whether a key or a
value is being typed, and which key a value belongs to. `key_at` finds the key under the cursor for hover.
List items are transparent: inside `flags:` / `- attach-project-disk` the path is `("flags",)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_KEY_LINE = re.compile(
    r"^(?P<indent> *)(?P<dash>- +)?"
    r"(?P<key>[^\s:#'\"{}\[\],&*!|>%@`-][^:#]*?|\"[^\"]*\"|'[^']*')"
    r"\s*:(?:\s+(?P<value>.*))?$"
)
_KEY_PREFIX = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<word>[\w.-]*)$")
_VALUE_PREFIX = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[\w.-]+)\s*:\s*(?P<word>[\w.-]*)$")
_DASH_PREFIX = re.compile(r"^(?P<indent> *)-\s+(?P<word>[\w.-]*)$")

KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class CursorContext:
    """What is being typed at the cursor."""

    kind: Literal["key", "value", "item"]
    path: KeyPath  # enclosing mapping keys; for "value", ends with the key whose value is typed
    prefix: str  # the partial word before the cursor
    prefix_start: int  # its column


@dataclass(frozen=True)
class _Line:
    indent: int
    dash: int | None  # column of `- `, when the line starts a list item
    key: str | None
    key_column: int
    opens_block: bool  # `key:` with nothing after it


def _parse_line(text: str) -> _Line | None:
    stripped = text.split(" #", 1)[0].rstrip() if not text.lstrip().startswith("#") else ""
    if not stripped.strip():
        return None
    indent = len(stripped) - len(stripped.lstrip(" "))
    match = _KEY_LINE.match(stripped)
    dash_match = re.match(r"^ *(- +)", stripped)
    dash = indent if dash_match else None
    key_column = indent + (len(dash_match.group(1)) if dash_match else 0)
    if match is None:
        return _Line(indent, dash, None, key_column, False)
    key = match.group("key").strip().strip("'\"")
    return _Line(indent, dash, key, key_column, not (match.group("value") or "").strip())


def enclosing_keys(lines: list[str], line_no: int, column: int) -> KeyPath:
    """The keys of the block mappings that contain a key written at (`line_no`, `column`)."""
    path: list[str] = []
    limit = column
    for index in range(line_no - 1, -1, -1):
        line = _parse_line(lines[index])
        if line is None:
            continue
        if line.key is not None and line.opens_block and line.key_column < limit:
            path.insert(0, line.key)
            limit = line.key_column
            if limit == 0:
                break
        elif line.dash is not None and line.dash < limit:
            # inside a list item: the list's own key sits at or left of the dash
            limit = line.dash + 1
        elif line.key_column < limit and line.dash is None and line.indent == 0:
            break  # a top-level scalar key: nothing further up encloses us
    return tuple(path)


def cursor_context(text: str, line_no: int, character: int) -> CursorContext | None:
    """What the user is typing at the cursor, or None where no completion makes sense (comments, strings)."""
    lines = text.splitlines() or [""]
    if line_no >= len(lines):
        lines += [""] * (line_no - len(lines) + 1)
    before = lines[line_no][:character]
    if "#" in before:
        return None
    value = _VALUE_PREFIX.match(before)
    if value:
        key_column = len(value.group("indent")) + len(value.group("dash") or "")
        parents = enclosing_keys(lines, line_no, key_column)
        return CursorContext(
            "value", (*parents, value.group("key")), value.group("word"), value.start("word")
        )
    item = _DASH_PREFIX.match(before)
    if item:
        parents = enclosing_keys(lines, line_no, len(item.group("indent")) + 1)
        if parents:
            return CursorContext("item", parents, item.group("word"), item.start("word"))
    key = _KEY_PREFIX.match(before)
    if key:
        column = len(key.group("indent")) + len(key.group("dash") or "")
        parents = enclosing_keys(lines, line_no, column)
        return CursorContext("key", parents, key.group("word"), key.start("word"))
    return None


def key_at(text: str, line_no: int, character: int) -> tuple[KeyPath, int, int] | None:
    """The full key path of the key under the cursor and the key's column span on that line."""
    lines = text.splitlines()
    if line_no >= len(lines):
        return None
    line = _parse_line(lines[line_no])
    if line is None or line.key is None:
        return None
    start = lines[line_no].find(line.key, line.key_column)
    end = start + len(line.key)
    if not start <= character <= end:
        return None
    return (*enclosing_keys(lines, line_no, line.key_column), line.key), start, end


def keys_under(text: str, path: KeyPath, *, skip_line: int) -> set[str]:
    """The keys already written directly under `path` (list items transparent), except on `skip_line`."""
    lines = text.splitlines()
    found: set[str] = set()
    for index, raw in enumerate(lines):
        line = _parse_line(raw)
        if index == skip_line or line is None or line.key is None:
            continue
        if enclosing_keys(lines, index, line.key_column) == path:
            found.add(line.key)
    return found
