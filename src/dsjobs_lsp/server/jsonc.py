"""A small JSONC reader that keeps the source span of every value, for edits that preserve the rest of a file.

VS Code's `launch.json` is JSONC: `//` and `/* */` comments and trailing commas are allowed. The parser
builds a tree of `JsonObject` / `JsonArray` / `JsonScalar` nodes, each with its `[start, end)` offsets in
the text, so an editor can replace or remove a member by splicing the text and leave the rest untouched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


class JsoncError(ValueError):
    """The text is not valid JSONC; the message names the line and column."""


@dataclass
class JsonNode:
    """Any value, with its span in the source text."""

    start: int
    end: int

    def value(self) -> Any:
        """The plain Python value."""
        raise NotImplementedError


@dataclass
class JsonScalar(JsonNode):
    """A string, number, boolean or null."""

    scalar: Any = None

    def value(self) -> Any:
        """The plain Python value."""
        return self.scalar


@dataclass
class JsonMember:
    """`"key": value` inside an object; `comma` is the offset of the comma after it, if any."""

    key: str
    key_start: int
    node: JsonNode
    comma: int | None = None


@dataclass
class JsonObject(JsonNode):
    """`{...}` with its members in source order."""

    members: list[JsonMember] = field(default_factory=list)

    def value(self) -> dict[str, Any]:
        """The plain Python value."""
        return {member.key: member.node.value() for member in self.members}

    def member(self, key: str) -> JsonMember | None:
        """The last member named `key` (JSON's duplicate-key rule), or None."""
        found = [member for member in self.members if member.key == key]
        return found[-1] if found else None


@dataclass
class JsonItem:
    """An element of an array; `comma` is the offset of the comma after it, if any."""

    node: JsonNode
    comma: int | None = None


@dataclass
class JsonArray(JsonNode):
    """`[...]` with its items in source order."""

    items: list[JsonItem] = field(default_factory=list)

    def value(self) -> list[Any]:
        """The plain Python value."""
        return [item.node.value() for item in self.items]


def parse_jsonc(text: str) -> JsonNode:
    """Parse a JSONC document; raises `JsoncError` with the line and column of the first problem."""
    parser = _Parser(text)
    node = parser.parse_value()
    parser.skip_trivia()
    if parser.pos != len(text):
        parser.fail("unexpected text after the end of the document")
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> None:
        line = self.text.count("\n", 0, self.pos) + 1
        column = self.pos - (self.text.rfind("\n", 0, self.pos) + 1) + 1
        raise JsoncError(f"line {line}, column {column}: {message}")

    def skip_trivia(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r\n\ufeff":
                self.pos += 1
            elif text.startswith("//", self.pos):
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline + 1
            elif text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close < 0:
                    self.fail("unterminated /* comment")
                self.pos = close + 2
            else:
                return

    def peek(self) -> str:
        self.skip_trivia()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse_value(self) -> JsonNode:
        char = self.peek()
        if char == "{":
            return self.parse_object()
        if char == "[":
            return self.parse_array()
        if char == '"':
            start = self.pos
            return JsonScalar(start, self.pos_after_string(), self.read_string(start))
        return self.parse_literal()

    def pos_after_string(self) -> int:
        text, index = self.text, self.pos + 1
        while index < len(text):
            if text[index] == "\\":
                index += 2
            elif text[index] == '"':
                return index + 1
            elif text[index] == "\n":
                break
            else:
                index += 1
        self.fail("unterminated string")
        return index

    def read_string(self, start: int) -> str:
        end = self.pos_after_string()
        try:
            value = json.loads(self.text[start:end])
        except json.JSONDecodeError as exc:
            self.fail(f"bad string: {exc.msg}")
        self.pos = end
        return str(value)

    def parse_literal(self) -> JsonScalar:
        start = self.pos
        for word, value in _LITERALS.items():
            if self.text.startswith(word, start):
                self.pos = start + len(word)
                return JsonScalar(start, self.pos, value)
        match = _NUMBER.match(self.text, start)
        if not match:
            self.fail("expected a value")
            raise AssertionError  # unreachable: fail() raises
        self.pos = match.end()
        return JsonScalar(start, self.pos, json.loads(match.group()))

    def parse_object(self) -> JsonObject:
        node = JsonObject(self.pos, self.pos)
        self.pos += 1
        while self.peek() != "}":
            if self.peek() != '"':
                self.fail("expected a quoted key or '}'")
            key_start = self.pos
            key = self.read_string(key_start)
            if self.peek() != ":":
                self.fail(f"expected ':' after key {key!r}")
            self.pos += 1
            member = JsonMember(key, key_start, self.parse_value())
            node.members.append(member)
            if self.peek() == ",":
                member.comma = self.pos
                self.pos += 1
            elif self.peek() != "}":
                self.fail("expected ',' or '}'")
        self.pos += 1
        node.end = self.pos
        return node

    def parse_array(self) -> JsonArray:
        node = JsonArray(self.pos, self.pos)
        self.pos += 1
        while self.peek() != "]":
            if not self.peek():
                self.fail("unterminated array")
            item = JsonItem(self.parse_value())
            node.items.append(item)
            if self.peek() == ",":
                item.comma = self.pos
                self.pos += 1
            elif self.peek() != "]":
                self.fail("expected ',' or ']'")
        self.pos += 1
        node.end = self.pos
        return node
