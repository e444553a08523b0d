"""Collects issues while a document is read: positions from the YAML tree, unknown-key hints via difflib."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from dsjobs_lsp.core.config.issues import ConfigIssue, Severity
from dsjobs_lsp.core.config.yaml_tree import KeyPath, YamlDocument, format_key_path


def is_str_list(value: object) -> bool:
    """A list whose items are all strings (what BaseLoader gives for a list of scalars)."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def is_str_dict(value: object) -> bool:
    """A mapping of strings to strings."""
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def reference_contains(value: object, key: str) -> bool:
    """What the reference's `key in value` gives for a section that is not a mapping (substring for text)."""
    if isinstance(value, str | list | dict):
        return key in value
    return False


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest of `choices` to a misspelt `word`, if any is close enough."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


class Checker:
    """Issue sink for one document: `error`/`warn` at a key path, with the range of its key or value."""

    def __init__(self, document: YamlDocument, base_dir: Path) -> None:
        self.document = document
        self.base_dir = base_dir
        self.issues: list[ConfigIssue] = []

    @property
    def failed(self) -> bool:
        """True once any error was recorded."""
        return any(issue.severity == "error" for issue in self.issues)

    def error_count(self) -> int:
        """How many errors were recorded so far (to tell whether a section added any)."""
        return sum(issue.severity == "error" for issue in self.issues)

    def error(self, path: KeyPath, message: str, *, on_key: bool = False) -> None:
        """Record an error about the value (or, with `on_key`, the key) at `path`."""
        self._add(path, message, "error", on_key)

    def warn(self, path: KeyPath, message: str, *, on_key: bool = False) -> None:
        """Record a warning about the value (or the key) at `path`."""
        self._add(path, message, "warning", on_key)

    def check_keys(self, path: KeyPath, mapping: dict[str, object], known: Iterable[str]) -> None:
        """Warn about keys the reference ignores, suggesting the closest known key."""
        known = list(known)
        for key in mapping:
            if key in known:
                continue
            hint = suggest(key, known)
            tail = f"; did you mean `{hint}`?" if hint else f" (known keys: {', '.join(known)})"
            self.warn((*path, key), f"unknown key `{key}` is ignored{tail}", on_key=True)

    def _add(self, path: KeyPath, message: str, severity: Severity, on_key: bool) -> None:
        span = self.document.key_span(path) if on_key else self.document.value_span(path)
        self.issues.append(
            ConfigIssue(
                key=format_key_path(path),
                message=message,
                severity=severity,
                line=span.line,
                column=span.column,
                end_line=span.end_line,
                end_column=span.end_column,
            )
        )
