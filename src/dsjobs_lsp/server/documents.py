"""config.yaml intelligence: diagnostics (debounced, off the event loop), key/value completion and key hover.

A document is a job config when its languageId is `yaml` and it is named `config.yaml` / `*.dsjob.yaml`, or
its text has a top-level `cmd:` key. Validation is the core's `check_config_text`; the key tree, the enum
values and the documentation come from the core's key docs (through `server.keys`).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from dsjobs_lsp.server import keys
from dsjobs_lsp.server.local_resources import resource_completions, resource_diagnostics
from dsjobs_lsp.server.yaml_context import cursor_context, key_at

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from dsjobs_lsp.server.app import DsjobsServer

DIAGNOSTICS_DELAY_S = 0.15
_TOP_LEVEL_CMD = re.compile(r"^cmd\s*:", re.MULTILINE)
_CONFIG_NAMES = ("config.yaml", "config.yml")
_CONFIG_SUFFIXES = (".dsjob.yaml", ".dsjob.yml")


def is_job_config(document: TextDocument) -> bool:
    """True for YAML documents that are DataSphere job configurations."""
    if document.language_id not in (None, "yaml"):
        return False
    name = Path(document.path).name
    if name in _CONFIG_NAMES or name.endswith(_CONFIG_SUFFIXES):
        return True
    return name.endswith((".yaml", ".yml")) and bool(_TOP_LEVEL_CMD.search(document.source))


async def diagnostics_of(document: TextDocument) -> list[types.Diagnostic]:
    """Every error and warning of a job config, with exact ranges."""
    from dsjobs_lsp.core.config import check_config_text

    path = Path(to_fs_path(document.uri) or document.path)
    issues = await asyncio.to_thread(
        check_config_text, document.source, source=str(path), base_dir=path.parent
    )
    return [
        types.Diagnostic(
            range=types.Range(
                start=types.Position(line=issue.line, character=issue.column),
                end=types.Position(line=issue.end_line, character=issue.end_column),
            ),
            message=issue.message,
            severity=(
                types.DiagnosticSeverity.Error
                if issue.severity == "error"
                else types.DiagnosticSeverity.Warning
            ),
            source="dsjobs",
            code=issue.key or None,
        )
        for issue in issues
    ]


class DiagnosticsScheduler:
    """Publishes diagnostics per document, debounced: a newer edit cancels the pending check."""

    def __init__(self, server: DsjobsServer) -> None:
        self._server = server
        self._pending: dict[str, asyncio.Task[None]] = {}

    def schedule(self, uri: str, delay: float = DIAGNOSTICS_DELAY_S) -> None:
        """Check `uri` after `delay` seconds (0 = now)."""
        self.cancel(uri)
        self._pending[uri] = asyncio.get_running_loop().create_task(self._run(uri, delay))

    def cancel(self, uri: str) -> None:
        """Drop a pending check."""
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()

    def clear(self, uri: str) -> None:
        """Cancel and remove the document's diagnostics."""
        self.cancel(uri)
        self._publish(uri, [], None)

    async def _run(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        document = self._server.workspace.get_text_document(uri)
        if not is_job_config(document):
            return
        version = document.version
        diagnostics = await diagnostics_of(document)
        diagnostics += await resource_diagnostics(self._server.session, document)
        if self._server.workspace.get_text_document(uri).version == version:
            self._publish(uri, diagnostics, version)
        self._pending.pop(uri, None)

    def _publish(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None) -> None:
        params = types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        self._server.text_document_publish_diagnostics(params)


def completions(document: TextDocument, position: types.Position) -> list[types.CompletionItem]:
    """Keys valid at the cursor, or the values of an enumerated key."""
    context = cursor_context(document.source, position.line, position.character)
    if context is None:
        return []
    edit_range = types.Range(
        start=types.Position(line=position.line, character=context.prefix_start), end=position
    )
    if context.kind == "key":
        return [_key_item(context.path, name, edit_range) for name in keys.child_keys(context.path)]
    return [
        types.CompletionItem(
            label=value,
            kind=types.CompletionItemKind.EnumMember,
            text_edit=types.TextEdit(range=edit_range, new_text=value),
        )
        for value in keys.value_choices(context.path)
    ]


def _key_item(parent: tuple[str, ...], name: str, edit_range: types.Range) -> types.CompletionItem:
    path = (*parent, name)
    doc = keys.key_doc(path)
    return types.CompletionItem(
        label=name,
        kind=types.CompletionItemKind.Property,
        detail=keys.dotted(path),
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=doc) if doc else None,
        text_edit=types.TextEdit(range=edit_range, new_text=f"{name}:{keys.value_separator(path)}"),
    )


def hover(document: TextDocument, position: types.Position) -> types.Hover | None:
    """The documentation of the key under the cursor."""
    found = key_at(document.source, position.line, position.character)
    if found is None:
        return None
    path, start, end = found
    doc = keys.key_doc(path)
    if doc is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"**{keys.dotted(path)}**\n\n{doc}"
        ),
        range=types.Range(
            start=types.Position(line=position.line, character=start),
            end=types.Position(line=position.line, character=end),
        ),
    )


def register_documents(server: DsjobsServer) -> None:
    """Register the text-document features for job configs."""
    scheduler = DiagnosticsScheduler(server)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DsjobsServer, params: types.DidOpenTextDocumentParams) -> None:
        scheduler.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DsjobsServer, params: types.DidChangeTextDocumentParams) -> None:
        scheduler.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DsjobsServer, params: types.DidSaveTextDocumentParams) -> None:
        scheduler.schedule(params.text_document.uri, 0)  # files it names may have appeared

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DsjobsServer, params: types.DidCloseTextDocumentParams) -> None:
        scheduler.clear(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[":", " ", "-"])
    )
    async def on_completion(ls: DsjobsServer, params: types.CompletionParams) -> types.CompletionList | None:
        document = ls.workspace.get_text_document(params.text_document.uri)
        if not is_job_config(document):
            return None
        items = completions(document, params.position)
        items += await resource_completions(ls.session, document, params.position)
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: DsjobsServer, params: types.HoverParams) -> types.Hover | None:
        document = ls.workspace.get_text_document(params.text_document.uri)
        if not is_job_config(document):
            return None
        return hover(document, params.position)
