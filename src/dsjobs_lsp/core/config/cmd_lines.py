"""The warning about a folded `cmd: >` block that YAML keeps on several lines (each runs as its own command).

YAML folds the lines of a `>` block into one, except around lines indented more than the first: their line
breaks are kept. The docs' shape

    cmd: >
      python main.py
        --data ${DATA}

is therefore `python main.py\\n  --data ${DATA}\\n`, and the shell runs `--data ...` as a second command (exit
127). What runs is not changed; the config check names the lines and says how to write one command.
"""

from __future__ import annotations

from dsjobs_lsp.core.config.checker import Checker


def _command_lines(cmd: str) -> list[str]:
    """The lines of ``cmd`` that start a shell command (not empty, not after a line ending in ``\\``)."""
    starts: list[str] = []
    continued = False
    for line in cmd.splitlines():
        if line.strip() and not continued:
            starts.append(line.strip())
        continued = line.endswith("\\")
    return starts


def _source_line(text_lines: list[str], start: int, content: str) -> int:
    """The 0-based line of ``text_lines`` (from ``start`` on) holding ``content``; ``start`` if none does."""
    for number in range(start, len(text_lines)):
        if text_lines[number].strip() == content:
            return number
    return start


def check_folded_cmd(check: Checker, cmd: str) -> None:
    """Warn when `cmd` is a `>` block that still holds several command lines."""
    span = check.document.value_span(("cmd",))
    text_lines = check.document.text.splitlines()
    if span.line >= len(text_lines) or not text_lines[span.line][span.column :].startswith(">"):
        return
    lines = _command_lines(cmd)
    if len(lines) < 2:
        return
    where, start = [], span.line + 1
    for content in lines:
        start = _source_line(text_lines, start, content)
        where.append(f"line {start + 1}: `{content}`")
        start += 1
    check.warn(
        ("cmd",),
        f"this `>` block keeps the line breaks of its more-indented lines, so it runs as {len(lines)} "
        f"separate shell commands ({'; '.join(where)}). To run one command, indent every line of the block "
        "like the first (YAML then joins them with spaces), or end each line but the last with ` \\`",
        on_key=True,
    )
