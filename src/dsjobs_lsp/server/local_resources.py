"""The local backend's datasets and S3 connectors, offered to the editor: config.yaml completion items under
`datasets:` / `s3-mounts:` and the `dsjobs.localResources` command the form asks for its fields.

Both answer only when the configured backend is local (the cloud's resources are not listed here); the
registry is read in a worker thread from the data dir the settings name.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import TYPE_CHECKING

from lsprotocol import types

from dsjobs_lsp.server.protocol import LocalConnectorPayload, LocalDatasetPayload, LocalResourcesResult
from dsjobs_lsp.server.yaml_context import cursor_context

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from dsjobs_lsp.core.settings import Settings
    from dsjobs_lsp.server.session import Session

RESOURCE_SECTIONS = ("datasets", "s3-mounts")

log = logging.getLogger("dsjobs_lsp.server.local_resources")


async def local_resources(settings: Settings, project_id: str | None = None) -> LocalResourcesResult:
    """The project's local datasets and connectors (empty lists when the backend is the cloud)."""
    if settings.backend != "local":
        return LocalResourcesResult(backend=settings.backend)
    return await asyncio.to_thread(_read_registry, settings, project_id)


def _read_registry(settings: Settings, project_id: str | None) -> LocalResourcesResult:
    from dsjobs_lsp.backends.local.layout import LOCAL_PROJECT_ID
    from dsjobs_lsp.backends.local.resources import registry_of

    registry = registry_of(settings.local_data_dir)
    project = project_id or settings.project_id or LOCAL_PROJECT_ID
    return LocalResourcesResult(
        backend="local",
        datasets=[LocalDatasetPayload(id=d.id, name=d.name, size=d.size) for d in registry.datasets(project)],
        s3_mounts=[LocalConnectorPayload(id=c.id, path=str(c.path)) for c in registry.connectors(project)],
    )


async def resource_completions(
    session: Session, document: TextDocument, position: types.Position
) -> list[types.CompletionItem]:
    """Dataset / connector IDs for a list item of `datasets:` / `s3-mounts:` at the cursor, else [] (also
    when the settings or the registry cannot be read: completion never fails for them)."""
    context = cursor_context(document.source, position.line, position.character)
    if context is None or context.kind != "item" or context.path not in [(s,) for s in RESOURCE_SECTIONS]:
        return []
    try:
        found = await local_resources(await session.settings())
    except (ValueError, OSError, sqlite3.Error) as error:
        log.info("no local resources for completion: %s", error)
        return []
    edit_range = types.Range(
        start=types.Position(line=position.line, character=context.prefix_start), end=position
    )
    if context.path == ("datasets",):
        labelled = [
            (d.id, f"dataset {d.name}", f"local dataset `{d.name}`, {d.size} bytes") for d in found.datasets
        ]
    else:
        labelled = [(c.id, f"S3 folder {c.path}", f"local S3 connector: `{c.path}`") for c in found.s3_mounts]
    return [
        types.CompletionItem(
            label=resource_id,
            kind=types.CompletionItemKind.Reference,
            detail=detail,
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=doc),
            text_edit=types.TextEdit(range=edit_range, new_text=resource_id),
        )
        for resource_id, detail, doc in labelled
    ]
