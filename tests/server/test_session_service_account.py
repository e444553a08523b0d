"""The editor's `serviceAccountKeyFile` setting reaches the cloud backend's authentication."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.server.conftest import ServerFactory

PROJECT = "abcdefghij0123456789"


async def test_key_file_setting_is_what_the_cloud_backend_authenticates_with(
    lsp: ServerFactory, tmp_path: Path
) -> None:
    first = tmp_path / "first-key.json"
    second = tmp_path / "second-key.json"
    server = await lsp.start({"backend": "cloud", "projectId": PROJECT, "serviceAccountKeyFile": str(first)})

    with pytest.raises(JsonRpcException) as caught:
        await server.command("dsjobs.history", {"projectId": PROJECT})
    assert f"cannot read the service account key file {first}" in str(caught.value)

    server.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"dsjobs": {"serviceAccountKeyFile": str(second)}})
    )
    with pytest.raises(JsonRpcException) as caught:
        await server.command("dsjobs.history", {"projectId": PROJECT})
    assert f"cannot read the service account key file {second}" in str(caught.value)
