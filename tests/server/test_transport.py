"""The stdio framing against a client sending bad bytes: raw frames to a real `python -m dsjobs_lsp`.

Every bad message gets an answer, and the server keeps answering the good messages that follow.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_backend import isolated_env

WAIT_S = 30.0


class RawClient:
    """Writes raw bytes to the server's stdin and reads its framed messages from stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.stdin = process.stdin
        self.stdout = process.stdout

    async def send_raw(self, data: bytes) -> None:
        self.stdin.write(data)
        await self.stdin.drain()

    async def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        await self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def receive(self) -> dict[str, Any]:
        length = 0
        while True:
            line = await self.stdout.readline()
            assert line, "the server closed stdout"
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif line == b"\r\n":
                break
        message: dict[str, Any] = json.loads(await self.stdout.readexactly(length))
        return message

    async def answer_to(self, msg_id: int | None) -> dict[str, Any]:
        """The next response carrying `msg_id` (notifications and other responses are skipped)."""
        return await asyncio.wait_for(self._answer_to(msg_id), WAIT_S)

    async def _answer_to(self, msg_id: int | None) -> dict[str, Any]:
        while True:
            message = await self.receive()
            if "method" not in message and message.get("id") == msg_id:
                return message


@pytest.fixture
async def raw(tmp_path: Path) -> AsyncIterator[RawClient]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dsjobs_lsp",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=isolated_env(tmp_path),
    )
    client = RawClient(process)
    await client.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    assert "result" in await client.answer_to(1)
    try:
        yield client
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def ping(client: RawClient, msg_id: int) -> None:
    """A good request after the bad one is answered (an unknown method: MethodNotFound)."""
    await client.send({"jsonrpc": "2.0", "id": msg_id, "method": "dsjobs/noSuchMethod", "params": {}})
    answer = await client.answer_to(msg_id)
    assert answer["error"]["code"] == -32601


async def test_a_malformed_content_length_is_answered_and_the_server_keeps_listening(raw: RawClient) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "dsjobs/noSuchMethod"}).encode()
    await raw.send_raw(b"Content-Length: abc\r\n\r\n" + body)
    answer = await raw.answer_to(None)
    assert answer["error"]["code"] == -32700 and "'abc'" in answer["error"]["message"]
    await ping(raw, 3)


async def test_a_huge_content_length_is_answered_without_reading_it_into_memory(raw: RawClient) -> None:
    await raw.send_raw(b"Content-Length: 1000000000000000\r\n\r\n{}")
    answer = await raw.answer_to(None)
    assert answer["error"]["code"] == -32600 and "over the limit" in answer["error"]["message"]
    await ping(raw, 4)
    assert raw.process.returncode is None


async def test_a_body_that_is_not_json_is_a_parse_error(raw: RawClient) -> None:
    await raw.send_raw(b"Content-Length: 5\r\n\r\n{oops")
    answer = await raw.answer_to(None)
    assert answer["error"]["code"] == -32700
    await ping(raw, 5)


@pytest.mark.parametrize("params", [[1, 2], "text", 7])
async def test_a_request_whose_params_is_not_an_object_gets_an_error_response(
    raw: RawClient, params: Any
) -> None:
    await raw.send({"jsonrpc": "2.0", "id": 6, "method": "textDocument/hover", "params": params})
    answer = await raw.answer_to(6)
    assert answer["error"]["code"] == -32602
    assert "textDocument/hover: `params` must be an object" in answer["error"]["message"]
    await raw.send({"jsonrpc": "2.0", "id": 7, "method": "workspace/executeCommand", "params": params})
    assert (await raw.answer_to(7))["error"]["code"] == -32602
    await ping(raw, 8)


async def test_exit_ends_the_process_even_while_the_client_keeps_stdin_open(raw: RawClient) -> None:
    await raw.send({"jsonrpc": "2.0", "id": 9, "method": "shutdown"})
    assert "error" not in await raw.answer_to(9)
    await raw.send({"jsonrpc": "2.0", "method": "exit"})
    assert await asyncio.wait_for(raw.process.wait(), WAIT_S) == 0
