"""Cursor position → YAML key path, from indentation (works on documents that do not parse)."""

from __future__ import annotations

import pytest

from dsjobs_lsp.server.yaml_context import cursor_context, key_at

DOC = (
    "\n".join(
        [
            "cmd: python main.py",
            "env:",
            "  python:",
            "    type: au",
            "    pip:",
            "      no-deps: true",
            "      ",
            "  vars:",
            "    - A",
            "flags:",
            "  - att",
            "inputs:",
            "  - data.csv: DATA",
            "    ",
            "graceful-shutdown:",
            "  signal: SIG",
            "  # a comment: here",
        ]
    )
    + "\n"
)
LINES = DOC.splitlines()


@pytest.mark.parametrize(
    ("line", "kind", "path", "prefix"),
    [
        (3, "value", ("env", "python", "type"), "au"),
        (6, "key", ("env", "python", "pip"), ""),
        (10, "item", ("flags",), "att"),
        (13, "key", ("inputs",), ""),
        (15, "value", ("graceful-shutdown", "signal"), "SIG"),
    ],
)
def test_cursor_context_at_the_end_of_a_line(
    line: int, kind: str, path: tuple[str, ...], prefix: str
) -> None:
    context = cursor_context(DOC, line, len(LINES[line]))

    assert context is not None
    assert (context.kind, context.path, context.prefix) == (kind, path, prefix)
    assert context.prefix_start == len(LINES[line]) - len(prefix)


def test_a_key_typed_at_a_shallower_indent_belongs_to_the_outer_mapping() -> None:
    context = cursor_context(DOC, 7, 3)  # "  v|ars:" — a sibling of `python`

    assert context is not None and (context.kind, context.path, context.prefix) == ("key", ("env",), "v")


def test_no_completion_inside_comments() -> None:
    assert cursor_context(DOC, 16, len(LINES[16])) is None


def test_past_the_end_of_the_document_is_the_top_level() -> None:
    context = cursor_context(DOC, len(LINES) + 2, 0)

    assert context is not None and (context.kind, context.path) == ("key", ())


def test_key_at_gives_the_full_path_and_the_key_span() -> None:
    assert key_at(DOC, 5, 8) == (("env", "python", "pip", "no-deps"), 6, 13)
    assert key_at(DOC, 15, 2) == (("graceful-shutdown", "signal"), 2, 8)
    assert key_at(DOC, 5, 16) is None  # on the value
