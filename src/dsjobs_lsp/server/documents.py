"""config.yaml intelligence: diagnostics (debounced, off the event loop), key/value completion and key hover.

A document is a job config when its languageId is `yaml` and it is named `config.yaml` / `*.dsjob.yaml`, or
named as `configFile` of a `datasphere` entry in a workspace folder's launch.json, or its text has a top-level
`cmd:` key or two or more known top-level keys. Validation is the core's `check_config_text`; the key tree,
the enum values and the documentation come from the core's key docs (through `server.keys`).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from dsjobs_lsp.server import keys
from dsjobs_lsp.server.local_resources import resource_completions, resource_diagnostics
from dsjobs_lsp.server.yaml_context import cursor_context, key_at, keys_under

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from dsjobs_lsp.core.config import ConfigIssue
    from dsjobs_lsp.server.app import DsjobsServer

DIAGNOSTICS_DELAY_S = 0.15
_TOP_LEVEL_CMD = re.compile(r"^cmd\s*:", re.MULTILINE)
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z][\w-]*)\s*:", re.MULTILINE)
MIN_KNOWN_TOP_LEVEL_KEYS = 2
_CONFIG_NAMES = ("config.yaml", "config.yml")
_CONFIG_SUFFIXES = (".dsjob.yaml", ".dsjob.yml")


def is_job_config(document: TextDocument, named: Collection[str] = ()) -> bool:
    """True for YAML documents that are DataSphere job configurations (`named`: launch.json's configFiles)."""
    if document.language_id not in (None, "yaml"):
        return False
    name = Path(document.path).name
    if name in _CONFIG_NAMES or name.endswith(_CONFIG_SUFFIXES):
        return True
    if not name.endswith((".yaml", ".yml")):
        return False
    if os.path.normpath(document.path) in named or _TOP_LEVEL_CMD.search(document.source):
        return True
    present = set(_TOP_LEVEL_KEY.findall(document.source))
    return len(present & set(keys.child_keys(()))) >= MIN_KNOWN_TOP_LEVEL_KEYS


def launch_config_files(folders: list[Path]) -> set[str]:
    """The `configFile`s named by `datasphere` entries of the folders' `.vscode/launch.json` (normalised
    paths; unreadable files are skipped). Blocking: call it in a thread."""
    from dsjobs_lsp.server.launch_json import LaunchJsonError, datasphere_entries

    found: set[str] = set()
    for folder in folders:
        try:
            entries = datasphere_entries((folder / ".vscode" / "launch.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, LaunchJsonError):
            continue
        for entry in entries:
            value = entry.get("configFile")
            if isinstance(value, str) and value.strip():
                path = value.strip().replace("${workspaceFolder}", str(folder))
                found.add(os.path.normpath(folder / path))
    return found


def _whole_document(source: str) -> types.Range:
    lines = source.splitlines() or [""]
    end = types.Position(line=len(lines) - 1, character=len(lines[-1]))
    return types.Range(start=types.Position(line=0, character=0), end=end)


def _issue_range(issue: ConfigIssue, source: str) -> types.Range:
    """Where a finding is underlined: a missing `cmd` concerns the whole file."""
    if issue.key == "cmd" and "is required" in issue.message:
        return _whole_document(source)
    return types.Range(
        start=types.Position(line=issue.line, character=issue.column),
        end=types.Position(line=issue.end_line, character=issue.end_column),
    )


async def diagnostics_of(document: TextDocument) -> list[types.Diagnostic]:
    """Every error and warning of a job config, with exact ranges."""
    from dsjobs_lsp.core.config import check_config_text

    path = Path(to_fs_path(document.uri) or document.path)
    issues = await asyncio.to_thread(
        check_config_text, document.source, source=str(path), base_dir=path.parent
    )
    return [
        types.Diagnostic(
            range=_issue_range(issue, document.source),
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
        self.named: set[str] = set()  # launch.json's configFiles, refreshed before each check

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
        self.named = await asyncio.to_thread(launch_config_files, _workspace_folders(self._server))
        document = self._server.workspace.get_text_document(uri)
        if not is_job_config(document, self.named):
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


def _workspace_folders(server: DsjobsServer) -> list[Path]:
    folders = [Path(to_fs_path(folder.uri) or "") for folder in server.workspace.folders.values()]
    if not folders and server.workspace.root_path:
        folders = [Path(server.workspace.root_path)]
    return folders


def completions(document: TextDocument, position: types.Position) -> list[types.CompletionItem]:
    """Keys valid at the cursor and not yet written there, or the values of an enumerated key."""
    context = cursor_context(document.source, position.line, position.character)
    if context is None:
        return []
    edit_range = types.Range(
        start=types.Position(line=position.line, character=context.prefix_start), end=position
    )
    if context.kind == "key":
        present = keys_under(document.source, context.path, skip_line=position.line)
        return [
            _key_item(context.path, name, edit_range)
            for name in keys.child_keys(context.path)
            if name not in present
        ]
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
        if not is_job_config(document, scheduler.named):
            return None
        items = completions(document, params.position)
        items += await resource_completions(ls.session, document, params.position)
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: DsjobsServer, params: types.HoverParams) -> types.Hover | None:
        document = ls.workspace.get_text_document(params.text_document.uri)
        if not is_job_config(document, scheduler.named):
            return None
        return hover(document, params.position)
