"""Command plumbing over stdio: the registered ids match docs/protocol.md, arguments are checked, the token
never leaks into a message or a log line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from dsjobs_lsp.server import protocol
from tests.server.conftest import Server, error_data

PROTOCOL_DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
TOKEN = "y0_AgAAAAAtestTOKENvalue1234567890abcdef"


def documented(pattern: str) -> set[str]:
    return set(re.findall(pattern, PROTOCOL_DOC.read_text(), re.MULTILINE))


async def test_every_registered_command_is_documented(server: Server) -> None:
    assert server.capabilities.execute_command_provider is not None
    advertised = server.capabilities.execute_command_provider.commands

    assert set(advertised) == set(protocol.COMMAND_ARGS)
    assert set(advertised) == documented(r"^\| `(dsjobs\.\w+)` \|")


def test_every_notification_is_documented() -> None:
    methods = {protocol.CONSOLE, protocol.LOG, protocol.JOB_CHANGED, protocol.PROGRESS, protocol.RUN_ENDED}

    assert methods == documented(r"^\| `(dsjobs/\w+)` \|")


async def test_unknown_argument_shape_is_a_clear_error(server: Server) -> None:
    with pytest.raises(JsonRpcException) as caught:
        await server.command("dsjobs.cancel", {"graceful": True})

    assert error_data(caught.value) == {"kind": "invalidParams"}
    assert "`jobId`" in caught.value.message


async def test_token_is_never_echoed(server: Server, tmp_path: Path) -> None:
    assert await server.command("dsjobs.setToken", {"token": TOKEN}) == {"ok": True}

    with pytest.raises(JsonRpcException) as caught:
        await server.command("dsjobs.loadConfig", {"path": str(tmp_path / f"{TOKEN}.yaml")})

    assert error_data(caught.value)["kind"] == "notFound"
    assert TOKEN not in caught.value.message and "***" in caught.value.message
    assert await server.command("dsjobs.removeToken") == {"ok": True}
    assert all(TOKEN not in message.message for message in server.client.log_messages)


async def test_unknown_job_is_reported_as_not_found(server: Server) -> None:
    with pytest.raises(JsonRpcException) as caught:
        await server.command("dsjobs.cancel", {"jobId": "nosuchjob00000000000"})

    assert error_data(caught.value)["kind"] == "notFound"
    assert "nosuchjob00000000000" in caught.value.message


async def test_an_argument_less_command_accepts_an_empty_list_as_lua_clients_send_it(server: Server) -> None:
    answer = await server.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="dsjobs.history", arguments=[[]])
    )
    assert answer == {"jobs": []}


async def test_run_file_of_a_missing_file_is_not_found_naming_the_path(
    server: Server, tmp_path: Path
) -> None:
    missing = tmp_path / "gone" / "train.py"
    with pytest.raises(JsonRpcException) as caught:
        await server.command("dsjobs.runFile", {"file": str(missing)})

    assert error_data(caught.value)["kind"] == "notFound"
    assert str(missing) in caught.value.message
