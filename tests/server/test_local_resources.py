"""The language server offers the local backend's datasets and S3 connectors: config.yaml completion under
`datasets:` / `s3-mounts:`, warnings on unknown IDs, and the form's `dsjobs.localResources` (a real server
over stdio)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID
from dsjobs_lsp.backends.local.resources import ResourceRegistry
from tests.server.conftest import Server, ServerFactory
from tests.server.test_documents import complete, open_document, wait_diagnostics

CONFIG = "cmd: cat ${DATA}/a ${BUCKET}/b\ndatasets:\n  - \ns3-mounts:\n  - lc\n"


def registry_with_resources(data_dir: Path, source: Path) -> tuple[str, str]:
    """A dataset and a connector in the server's data dir (as `dsjobs local ... create` makes them)."""
    source.mkdir()
    (source / "a").write_text("abc")
    registry = ResourceRegistry(data_dir)
    dataset = registry.create_dataset(LOCAL_PROJECT_ID, "numbers", source)
    connector = registry.create_connector(LOCAL_PROJECT_ID, source)
    return dataset.id, connector.id


async def test_config_completion_offers_local_dataset_and_connector_ids(
    server: Server, lsp: ServerFactory, tmp_path: Path
) -> None:
    dataset_id, connector_id = registry_with_resources(lsp.data_dir, tmp_path / "source")
    uri = open_document(server, tmp_path / "config.yaml", CONFIG)

    assert await complete(server, uri, 2, 4) == [dataset_id]
    assert await complete(server, uri, 4, 6) == [connector_id]
    assert dataset_id not in await complete(server, uri, 0, 0)


async def test_the_form_asks_for_local_resources_and_the_cloud_has_none(
    server: Server, lsp: ServerFactory, tmp_path: Path
) -> None:
    dataset_id, connector_id = registry_with_resources(lsp.data_dir, tmp_path / "source")

    local = await server.command("dsjobs.localResources", {})
    other_project = await server.command("dsjobs.localResources", {"projectId": "otherproject00000000"})
    cloud = await (await lsp.start({"backend": "cloud"})).command("dsjobs.localResources", {})

    assert local == {
        "backend": "local",
        "projectId": LOCAL_PROJECT_ID,
        "datasets": [{"id": dataset_id, "name": "numbers", "size": 3}],
        "s3Mounts": [{"id": connector_id, "path": str((tmp_path / "source").resolve())}],
    }
    assert other_project["datasets"] == [] and other_project["s3Mounts"] == []
    assert cloud == {"backend": "cloud", "projectId": None, "datasets": [], "s3Mounts": []}


async def test_ids_the_local_project_lacks_get_a_warning_naming_the_create_command(
    server: Server, lsp: ServerFactory, tmp_path: Path
) -> None:
    dataset_id, connector_id = registry_with_resources(lsp.data_dir, tmp_path / "source")
    text = (
        "cmd: cat ${A}/a ${B}/a ${C}/c\n"
        f"datasets:\n  - {dataset_id}: A\n  - ld0000000000000000xx: B\n"
        f"s3-mounts:\n  - {connector_id}: C\n  - lc0000000000000000yy\n"
    )
    uri = open_document(server, tmp_path / "config.yaml", text)

    warnings = {
        d.code: d for d in await wait_diagnostics(server, uri) if d.code in ("datasets[1]", "s3-mounts[1]")
    }

    assert sorted(warnings) == ["datasets[1]", "s3-mounts[1]"]
    dataset = warnings["datasets[1]"]
    assert dataset.severity == types.DiagnosticSeverity.Warning
    assert (dataset.range.start.line, dataset.range.start.character, dataset.range.end.character) == (
        3,
        4,
        24,
    )
    assert dataset.message.startswith("dataset 'ld0000000000000000xx' does not exist in project ")
    assert "`dsjobs local dataset create NAME --path DIR`" in dataset.message
    assert "`dsjobs local s3 create --path DIR`" in warnings["s3-mounts[1]"].message
    assert (warnings["s3-mounts[1]"].range.start.line, warnings["s3-mounts[1]"].range.start.character) == (
        6,
        4,
    )
