"""The `dsjobs` fixtures of `test_cli_main` (a backend daemon per module, the example) for every module."""

from tests.cli.test_cli_main import cli, project  # noqa: F401
