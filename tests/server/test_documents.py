"""config.yaml intelligence over stdio: diagnostics with exact ranges, key/value completion, hover."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from tests.server.conftest import Server

BROKEN = """\
name: train
cmd: python main.py --data ${DATA}
inputs:
  - data.csv: DATA
env:
  python:
    type: auto
    pip:
      no-deps: True
cloud-instance-types: c1.4
"""


def open_document(server: Server, path: Path, text: str, language: str = "yaml") -> str:
    path.write_text(text)
    uri = path.as_uri()
    server.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        )
    )
    return uri


def change_document(server: Server, uri: str, text: str, version: int) -> None:
    server.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def wait_diagnostics(server: Server, uri: str, limit_s: float = 20.0) -> list[types.Diagnostic]:
    """Diagnostics are recorded by pytest-lsp's own handler, so poll its record."""

    async def recorded() -> None:
        while uri not in server.client.diagnostics:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    await asyncio.wait_for(recorded(), limit_s)
    return list(server.client.diagnostics[uri])


async def complete(server: Server, uri: str, line: int, character: int) -> list[str]:
    result = await server.client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )
    if result is None:
        return []
    assert isinstance(result, types.CompletionList)
    return [item.label for item in result.items]


async def test_diagnostics_point_at_the_bad_values(server: Server, tmp_path: Path) -> None:
    uri = open_document(server, tmp_path / "config.yaml", BROKEN)  # data.csv does not exist

    diagnostics = await wait_diagnostics(server, uri)

    by_code = {d.code: d for d in diagnostics}
    missing = by_code["inputs[0]"]
    assert missing.severity == types.DiagnosticSeverity.Error and "data.csv" in missing.message
    assert (missing.range.start.line, missing.range.start.character, missing.range.end.character) == (
        3,
        4,
        18,
    )
    no_deps = by_code["env.python.pip.no-deps"]
    assert no_deps.severity == types.DiagnosticSeverity.Warning
    assert (no_deps.range.start.line, no_deps.range.start.character) == (8, 15)
    assert all(d.source == "dsjobs" for d in diagnostics)


async def test_a_folded_cmd_kept_on_several_lines_is_a_warning_on_cmd(server: Server, tmp_path: Path) -> None:
    text = "name: docs\ncmd: >\n  python main.py\n    --epochs 3\n"
    uri = open_document(server, tmp_path / "config.yaml", text)

    (warning,) = await wait_diagnostics(server, uri)

    assert warning.code == "cmd" and warning.severity == types.DiagnosticSeverity.Warning
    assert "line 4: `--epochs 3`" in warning.message
    assert (warning.range.start.line, warning.range.start.character) == (1, 0)


async def test_diagnostics_of_a_broken_document(server: Server, tmp_path: Path) -> None:
    text = "cmd: python main.py\nenv:\n  python:\n    type: sometimes\n"
    uri = open_document(server, tmp_path / "config.yaml", text)

    (error,) = await wait_diagnostics(server, uri)

    assert error.code == "env.python.type" and "sometimes" in error.message
    assert (error.range.start.line, error.range.start.character) == (3, 10)


async def test_diagnostics_follow_edits_and_clear_on_close(server: Server, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("x\n")
    uri = open_document(server, tmp_path / "job.dsjob.yaml", "cmd: [unclosed\n")
    syntax = await wait_diagnostics(server, uri)
    assert syntax and syntax[0].severity == types.DiagnosticSeverity.Error
    assert "YAML" in syntax[0].message

    del server.client.diagnostics[uri]
    change_document(server, uri, "cmd: python main.py\n", 2)
    assert [
        d for d in await wait_diagnostics(server, uri) if d.severity == types.DiagnosticSeverity.Error
    ] == []

    del server.client.diagnostics[uri]
    server.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert list(await wait_diagnostics(server, uri)) == []


async def test_other_yaml_files_are_left_alone(server: Server, tmp_path: Path) -> None:
    uri = open_document(server, tmp_path / "docker-compose.yaml", "services:\n  web: {image: nginx}\n")
    await asyncio.sleep(0.5)

    assert uri not in server.client.diagnostics
    assert await complete(server, uri, 1, 2) == []


async def test_completion_offers_keys_by_position_and_enum_values(server: Server, tmp_path: Path) -> None:
    text = "cmd: python main.py\nenv:\n  python:\n    type: \n    \ngraceful-shutdown:\n  signal: SIG\nfl\n"
    uri = open_document(server, tmp_path / "config.yaml", text)

    top = await complete(server, uri, 7, 2)
    python_keys = await complete(server, uri, 4, 4)
    python_types = await complete(server, uri, 3, 10)
    signals = await complete(server, uri, 6, 13)

    assert {"name", "inputs", "outputs", "flags", "cloud-instance-types"} <= set(top)
    assert "env" not in top  # already written
    assert {"version", "requirements-file", "pip"} <= set(python_keys)
    assert "type" not in python_keys  # already written
    assert "name" not in python_keys
    assert python_types == ["auto", "manual"]
    assert "SIGTERM" in signals and "SIGINT" in signals


async def test_hover_documents_the_key_under_the_cursor(server: Server, tmp_path: Path) -> None:
    uri = open_document(server, tmp_path / "config.yaml", BROKEN)

    hover = await server.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=8, character=9)
        )
    )
    nothing = await server.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=9)
        )
    )

    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "env.python.pip.no-deps" in hover.contents.value and "--no-deps" in hover.contents.value
    assert hover.range is not None and (hover.range.start.character, hover.range.end.character) == (6, 13)
    assert nothing is None  # on a value, not a key


async def test_a_yaml_with_two_known_top_level_keys_is_a_job_config(server: Server, tmp_path: Path) -> None:
    text = "name: train\ninputs:\n  - data.csv\n"
    uri = open_document(server, tmp_path / "bad-config.yaml", text)

    diagnostics = await wait_diagnostics(server, uri)

    missing = next(d for d in diagnostics if "`cmd` is required" in d.message)
    # the whole file is at fault, not its first line
    assert missing.range.start == types.Position(line=0, character=0)
    assert missing.range.end == types.Position(line=2, character=len("  - data.csv"))


async def test_a_yaml_named_as_configfile_in_launch_json_is_a_job_config(
    server: Server, tmp_path: Path
) -> None:
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".vscode" / "launch.json").write_text(
        '{"configurations": [{"type": "datasphere", "request": "launch", "name": "job",\n'
        "  // a comment, as VS Code allows\n"
        '  "configFile": "${workspaceFolder}/jobs/train.yaml"}]}\n'
    )
    server.client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="ws")], removed=[]
            )
        )
    )
    (tmp_path / "jobs").mkdir()
    uri = open_document(server, tmp_path / "jobs" / "train.yaml", "name: train\n")

    diagnostics = await wait_diagnostics(server, uri)

    assert any("`cmd` is required" in d.message for d in diagnostics)


async def test_completion_leaves_out_keys_already_present(server: Server, tmp_path: Path) -> None:
    text = "cmd: python main.py\nname: x\nenv:\n  python:\n    type: auto\n    \n\n"
    uri = open_document(server, tmp_path / "config.yaml", text)

    top = await complete(server, uri, 6, 0)
    python_keys = await complete(server, uri, 5, 4)

    assert "cmd" not in top and "name" not in top and "env" not in top
    assert "inputs" in top
    assert "type" not in python_keys and "version" in python_keys
