"""Problems found in a job configuration: `ConfigIssue` (one finding, LSP-style range) and `ConfigError`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning"]
FORM_SOURCE = "launch configuration"
"""The `source` of issues about a form (a launch.json entry, `dsjobs run` options): no file, no lines."""


class ConfigIssue(BaseModel):
    """One error or warning about a configuration key.

    `key` is the dotted path of the key (`env.python.pip.no-deps`, `inputs[2]`; a form field name such as
    `instanceType` for a launch configuration; empty for the whole document).
    Positions are 0-based, LSP-style.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    message: str
    severity: Severity = "error"
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0

    def describe(self, source: str) -> str:
        """`config.yaml:7: env.python.pip.index-url: should be a string` (1-based line); for a form
        (`FORM_SOURCE`), the form field and the message: `inputs: inputs[0]: no such file ...`."""
        if source == FORM_SOURCE:
            return f"{self.key}: {self.message}" if self.key else self.message
        where = f"{source}:{self.line + 1}: "
        return where + (f"{self.key}: {self.message}" if self.key else self.message)


class ConfigError(ValueError):
    """A configuration was rejected; `issues` holds every error (and the warnings found on the way)."""

    def __init__(self, issues: list[ConfigIssue], *, source: str = "config.yaml") -> None:
        self.issues = issues
        self.source = source
        super().__init__(self._render())

    @property
    def errors(self) -> list[ConfigIssue]:
        """Only the issues of severity `error`."""
        return [issue for issue in self.issues if issue.severity == "error"]

    def _render(self) -> str:
        shown = self.errors or self.issues
        return "\n".join(issue.describe(self.source) for issue in shown)
