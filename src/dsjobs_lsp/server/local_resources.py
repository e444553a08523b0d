"""The local backend's datasets and S3 connectors, offered to the editor: config.yaml completion items under
`datasets:` / `s3-mounts:`, warnings on IDs the local project lacks, and the `dsjobs.localResources` command
the form asks for its fields.

All answer only when the configured backend is local (the cloud's resources are not listed here); the
registry is read in a worker thread from the data dir the settings name.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from dsjobs_lsp.server.protocol import LocalConnectorPayload, LocalDatasetPayload, LocalResourcesResult
from dsjobs_lsp.server.yaml_context import cursor_context

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from dsjobs_lsp.core.config.yaml_tree import Span
    from dsjobs_lsp.core.settings import Settings
    from dsjobs_lsp.server.session import Session

RESOURCE_SECTIONS = ("datasets", "s3-mounts")
RESOURCE_ID = re.compile(r"[0-9a-z]{20}")

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
        project_id=project,
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
    found = await _resources_or_none(session)
    if found is None:
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


@dataclass(frozen=True)
class ResourceEntry:
    """A resource ID written in config.yaml: its section, position in the list, and where it stands."""

    section: str
    index: int
    resource_id: str
    span: Span


def resource_entries(text: str) -> list[ResourceEntry]:
    """The well-formed IDs of `datasets:` / `s3-mounts:` entries (`- ID`, `- ID: VAR`); none if unreadable."""
    from dsjobs_lsp.core.config.yaml_tree import parse_yaml

    try:
        document = parse_yaml(text)
    except ValueError:
        return []
    data = document.data if isinstance(document.data, dict) else {}
    entries: list[ResourceEntry] = []
    for section in RESOURCE_SECTIONS:
        items = data.get(section)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, str):
                resource_id, span = item, document.value_span((section, index))
            elif isinstance(item, dict) and len(item) == 1:
                resource_id = next(iter(item))
                span = document.key_span((section, index, resource_id))
            else:
                continue
            if RESOURCE_ID.fullmatch(resource_id):
                entries.append(ResourceEntry(section, index, resource_id, span))
    return entries


async def resource_diagnostics(session: Session, document: TextDocument) -> list[types.Diagnostic]:
    """Warnings on the dataset / connector IDs the local backend's project lacks (none for the cloud)."""
    entries = await asyncio.to_thread(resource_entries, document.source)
    if not entries:
        return []
    found = await _resources_or_none(session)
    if found is None or found.backend != "local" or found.project_id is None:
        return []
    known = {"datasets": {d.id for d in found.datasets}, "s3-mounts": {c.id for c in found.s3_mounts}}
    return [
        _unknown_warning(entry, found.project_id)
        for entry in entries
        if entry.resource_id not in known[entry.section]
    ]


def _unknown_warning(entry: ResourceEntry, project_id: str) -> types.Diagnostic:
    from dsjobs_lsp.backends.local.resources import (
        CREATE_CONNECTOR_COMMAND,
        CREATE_DATASET_COMMAND,
        unknown_resource,
    )

    if entry.section == "datasets":
        error = unknown_resource("dataset", entry.resource_id, project_id, CREATE_DATASET_COMMAND)
    else:
        error = unknown_resource("S3 connector", entry.resource_id, project_id, CREATE_CONNECTOR_COMMAND)
    span = entry.span
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=span.line, character=span.column),
            end=types.Position(line=span.end_line, character=span.end_column),
        ),
        message=str(error),
        severity=types.DiagnosticSeverity.Warning,
        source="dsjobs",
        code=f"{entry.section}[{entry.index}]",
    )


async def _resources_or_none(session: Session) -> LocalResourcesResult | None:
    """The local resources of the configured project; None when the settings or registry are unreadable."""
    try:
        return await local_resources(await session.settings())
    except (ValueError, OSError, sqlite3.Error) as error:
        log.info("local resources unavailable: %s", error)
        return None
