"""YAML read the way the reference CLI reads it (`yaml.BaseLoader`: every scalar a string), plus positions.

The document is composed once; the plain data comes from BaseLoader's own constructor (so values are exactly
what the reference sees) and every key path (`("env", "python", "pip", "no-deps")`, `("inputs", 2)`) maps to
the 0-based range of its key and of its value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Span:
    """A 0-based, end-exclusive range in the text."""

    line: int
    column: int
    end_line: int
    end_column: int


def format_key_path(path: KeyPath) -> str:
    """`("inputs", 2, "data.csv")` -> `inputs[2].data.csv`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _node_span(node: yaml.Node, lines: list[str]) -> Span:
    start, end = node.start_mark, node.end_mark
    if end.line > start.line and end.column == 0:
        # Block collections end at the start of the following line; stop at the end of the last one instead.
        last = end.line - 1
        return Span(start.line, start.column, last, len(lines[last]) if last < len(lines) else 0)
    return Span(start.line, start.column, end.line, end.column)


@dataclass
class YamlDocument:
    """The parsed data (`None` for an empty document) and the spans of every key path in it."""

    data: object
    text: str
    value_spans: dict[KeyPath, Span] = field(default_factory=dict)
    key_spans: dict[KeyPath, Span] = field(default_factory=dict)
    duplicate_keys: list[KeyPath] = field(default_factory=list)

    def value_span(self, path: KeyPath) -> Span:
        """Span of the value at `path`, or of its nearest ancestor that exists."""
        return self._lookup(self.value_spans, path)

    def key_span(self, path: KeyPath) -> Span:
        """Span of the key at `path` (the value's span for list items), or of its nearest ancestor."""
        return self._lookup(self.key_spans, path)

    def _lookup(self, spans: dict[KeyPath, Span], path: KeyPath) -> Span:
        while path:
            if path in spans:
                return spans[path]
            if path in self.value_spans:
                return self.value_spans[path]
            path = path[:-1]
        return self.value_spans.get((), Span(0, 0, 0, 0))


class YamlSyntaxError(ValueError):
    """The text is not one valid YAML document; `span` points at the problem."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.span = span


def _index_nodes(
    document: YamlDocument, node: yaml.Node, path: KeyPath, active: set[int], lines: list[str]
) -> None:
    document.value_spans[path] = _node_span(node, lines)
    if id(node) in active:  # a recursive alias: index it once
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            child = (*path, key_node.value)
            if key_node.value in seen:
                document.duplicate_keys.append(child)
            seen.add(key_node.value)
            document.key_spans[child] = _node_span(key_node, lines)
            _index_nodes(document, value_node, child, active, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_nodes(document, item, (*path, index), active, lines)
    active.discard(id(node))


def _error_span(error: yaml.YAMLError) -> Span:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return Span(0, 0, 0, 0)
    return Span(mark.line, mark.column, mark.line, mark.column + 1)


def _error_message(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        parts = [error.context, error.problem]
        return "invalid YAML: " + ", ".join(part for part in parts if part)
    return f"invalid YAML: {error}"


def parse_yaml(text: str) -> YamlDocument:
    """Compose and construct `text` with `yaml.BaseLoader`; raises YamlSyntaxError at the error."""
    loader = yaml.BaseLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise YamlSyntaxError(_error_message(error), _error_span(error)) from None
    finally:
        loader.dispose()
    document = YamlDocument(data=data, text=text)
    if node is not None:
        _index_nodes(document, node, (), set(), text.splitlines())
    return document
