"""Read and update `datasphere` entries of `.vscode/launch.json`, keeping comments, trailing commas, layout.

Edits are made one at a time on the text (replace a member's value, remove a member, append a member or an
entry), re-parsing after each, so every untouched byte of the file stays as the user wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from dsjobs_lsp.server.jsonc import JsonArray, JsonMember, JsonObject, parse_jsonc

DEBUG_TYPE = "datasphere"
_NEW_FILE = '{\n    "version": "0.2.0",\n    "configurations": []\n}\n'
_ONE_LINE_LIMIT = 100


class LaunchJsonError(ValueError):
    """launch.json cannot be read or has an unexpected shape; the message says where."""


@dataclass(frozen=True)
class UpsertResult:
    """The new text and whether a new entry was added (False: an existing one was updated)."""

    text: str
    created: bool


def datasphere_entries(text: str) -> list[dict[str, Any]]:
    """The `datasphere` entries of a launch.json text, in file order."""
    configurations = _configurations(_root(text))
    if configurations is None:
        return []
    return [
        item.node.value()
        for item in configurations.items
        if isinstance(item.node, JsonObject) and _is_datasphere(item.node)
    ]


def upsert_entry(text: str, entry: Mapping[str, Any], *, managed_keys: Collection[str]) -> UpsertResult:
    """Add `entry` to `configurations`, or update the `datasphere` entry with the same `name`.

    On update, members in `entry` get its values, members in `managed_keys` but absent from `entry` are
    removed, and any other member (the user's own keys) is kept. `text` may be empty (a new file).
    """
    if not text.strip():
        text = _NEW_FILE
    name = entry.get("name")
    created = _find_entry(_root(text), name) is None
    if created:
        text = _append_entry(text, entry)
    while (edited := _next_member_edit(text, name, entry, managed_keys)) is not None:
        text = edited
    return UpsertResult(text, created)


# -- locating ---------------------------------------------------------------------------------------------


def _root(text: str) -> JsonObject:
    try:
        root = parse_jsonc(text)
    except ValueError as exc:
        raise LaunchJsonError(f"launch.json is not valid JSON with comments: {exc}") from None
    if not isinstance(root, JsonObject):
        raise LaunchJsonError("launch.json: the top level must be an object")
    return root


def _configurations(root: JsonObject) -> JsonArray | None:
    member = root.member("configurations")
    if member is None:
        return None
    if not isinstance(member.node, JsonArray):
        raise LaunchJsonError("launch.json: `configurations` must be an array")
    return member.node


def _is_datasphere(node: JsonObject) -> bool:
    kind = node.member("type")
    return kind is not None and kind.node.value() == DEBUG_TYPE


def _find_entry(root: JsonObject, name: Any) -> JsonObject | None:
    configurations = _configurations(root)
    if configurations is None:
        return None
    for item in configurations.items:
        node = item.node
        if isinstance(node, JsonObject) and _is_datasphere(node):
            member = node.member("name")
            if member is not None and member.node.value() == name:
                return node
    return None


# -- edits ------------------------------------------------------------------------------------------------


def _next_member_edit(
    text: str, name: Any, entry: Mapping[str, Any], managed_keys: Collection[str]
) -> str | None:
    """Apply the first needed change to the entry's members; None when the entry matches."""
    node = _find_entry(_root(text), name)
    if node is None:
        raise LaunchJsonError(f"launch.json: entry {name!r} vanished while editing")
    present = {member.key for member in node.members}
    for member in node.members:
        if member.key in entry and member.node.value() != entry[member.key]:
            indent = _indent_at(text, member.key_start)
            rendered = _dump(entry[member.key], indent, _indent_unit(text))
            return _splice(text, member.node.start, member.node.end, rendered)
        if member.key not in entry and member.key in managed_keys:
            return _remove_member(text, node, member)
    for key, value in entry.items():
        if key not in present:
            return _append_member(text, node, key, value)
    return None


def _append_entry(text: str, entry: Mapping[str, Any]) -> str:
    root = _root(text)
    configurations = _configurations(root)
    if configurations is None:
        return _append_member(text, root, "configurations", [dict(entry)])
    unit = _indent_unit(text)
    if configurations.items:
        last = configurations.items[-1]
        indent = _indent_at(text, last.node.start)
        rendered = _dump(dict(entry), indent, unit)
        if last.comma is not None:
            return _splice(text, last.comma + 1, last.comma + 1, f"\n{indent}{rendered},")
        return _splice(text, last.node.end, last.node.end, f",\n{indent}{rendered}")
    outer = _indent_at(text, root.member("configurations").key_start)  # type: ignore[union-attr]
    indent = outer + unit
    rendered = _dump(dict(entry), indent, unit)
    inner = text[configurations.start + 1 : configurations.end - 1]
    if inner.strip():  # only comments inside: keep them, add after `[`
        return _splice(text, configurations.start + 1, configurations.start + 1, f"\n{indent}{rendered},")
    return _splice(text, configurations.start + 1, configurations.end - 1, f"\n{indent}{rendered}\n{outer}")


def _append_member(text: str, node: JsonObject, key: str, value: Any) -> str:
    unit = _indent_unit(text)
    if node.members:
        last = node.members[-1]
        indent = _indent_at(text, last.key_start)
        rendered = f"{json.dumps(key)}: {_dump(value, indent, unit)}"
        if last.comma is not None:
            return _splice(text, last.comma + 1, last.comma + 1, f"\n{indent}{rendered},")
        return _splice(text, last.node.end, last.node.end, f",\n{indent}{rendered}")
    outer = _indent_at(text, node.start)
    indent = outer + unit
    rendered = f"{json.dumps(key)}: {_dump(value, indent, unit)}"
    return _splice(text, node.start + 1, node.end - 1, f"\n{indent}{rendered}\n{outer}")


def _remove_member(text: str, node: JsonObject, member: JsonMember) -> str:
    index = node.members.index(member)
    start, end = member.key_start, member.node.end
    if member.comma is not None:
        end = member.comma + 1
    elif index > 0:
        previous = node.members[index - 1]
        if previous.comma is not None:
            start = previous.comma  # drop the comma that now would trail
            return _splice(text, start, end, "")
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if not text[line_start:start].strip() and not text[end:line_end].strip():
        return _splice(text, line_start, min(line_end + 1, len(text)), "")
    return _splice(text, start, end, "")


# -- text helpers -----------------------------------------------------------------------------------------


def _splice(text: str, start: int, end: int, replacement: str) -> str:
    return text[:start] + replacement + text[end:]


def _indent_at(text: str, offset: int) -> str:
    """The whitespace that starts the line holding `offset`."""
    line_start = text.rfind("\n", 0, offset) + 1
    line = text[line_start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _indent_unit(text: str) -> str:
    """The file's indentation step: the first indented line's leading whitespace, else four spaces."""
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if stripped and stripped != line:
            return line[: len(line) - len(stripped)]
    return "    "


def _dump(value: Any, indent: str, unit: str = "    ") -> str:
    """JSON for `value` on a line indented by `indent`, nested by `unit`; short lists inline."""
    one_line = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or (_flat_list(value) and len(one_line) <= _ONE_LINE_LIMIT):
        return one_line
    inner = indent + unit
    if isinstance(value, list):
        items = [_dump(item, inner, unit) for item in value]
        return "[\n" + ",\n".join(inner + item for item in items) + f"\n{indent}]"
    if not value:
        return "{}"
    members = [f"{inner}{json.dumps(key)}: {_dump(item, inner, unit)}" for key, item in value.items()]
    return "{\n" + ",\n".join(members) + f"\n{indent}}}"


def _flat_list(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(item, dict | list) for item in value)
