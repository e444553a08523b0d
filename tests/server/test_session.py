"""Settings from `initializationOptions` and `workspace/didChangeConfiguration` reach the commands."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from tests.server.conftest import ServerFactory

PROJECT_A = "aaaaaaaaaaaaaaaaaaaa"
PROJECT_B = "bbbbbbbbbbbbbbbbbbbb"


async def test_project_comes_from_options_then_from_changed_settings(
    lsp: ServerFactory, tmp_path: Path
) -> None:
    program = tmp_path / "main.py"
    program.write_text("print(1)\n")
    server = await lsp.start({"projectId": PROJECT_A})

    first = await server.command("dsjobs.resolveConfig", {"file": str(program)})
    server.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"dsjobs": {"projectId": PROJECT_B}})
    )
    second = await server.command("dsjobs.resolveConfig", {"file": str(program)})
    server.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"dsjobs": {"projectId": None}})
    )
    third = await server.command("dsjobs.resolveConfig", {"file": str(program)})

    assert [answer["config"]["projectId"] for answer in (first, second, third)] == [
        PROJECT_A,
        PROJECT_B,
        None,
    ]


async def test_history_lives_in_the_storage_path(lsp: ServerFactory, tmp_path: Path) -> None:
    storage = tmp_path / "vscode-global-storage"
    server = await lsp.start({"storagePath": str(storage)})

    answer = await server.command("dsjobs.history", {})

    assert answer == {"jobs": []}
    assert (storage / "history.sqlite3").exists()
