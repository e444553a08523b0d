"""How the core's failures reach the client: kinds and messages of `to_command_error`."""

from __future__ import annotations

from dsjobs_lsp.core.pyenv import PythonEnvError, RequirementsError
from dsjobs_lsp.server.errors import to_command_error


def test_python_environment_failures_are_shown_not_hidden_as_internal() -> None:
    for error in (
        PythonEnvError("env.python.root-paths: tools/run.py not found (working directory /w)"),
        RequirementsError("requirements.txt:3: cannot parse 'numpy=='"),
    ):
        answer = to_command_error(error)
        assert (answer.kind, answer.message) == ("config", str(error))
