"""The configuration form over stdio: resolve, validate, save to launch.json, export and load config.yaml."""

from __future__ import annotations

import asyncio
import json
import textwrap
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
import yaml
from pygls.exceptions import JsonRpcException

from dsjobs_lsp.server.jsonc import parse_jsonc
from tests.server.conftest import Server, error_data

LAUNCH_JSON = textwrap.dedent(
    """\
    {
        // Use IntelliSense to learn about possible attributes.
        "version": "0.2.0",
        "configurations": [
            {
                "name": "Python: Current File", // the user's own entry
                "type": "debugpy",
                "request": "launch",
            },
            /* the datasphere entry below is managed by the form */
            {
                "type": "datasphere",
                "request": "launch",
                "name": "train",
                "program": "${workspaceFolder}/main.py",
                "instanceType": "g1.1", // GPU please
                "preLaunchTask": "build",
            },
        ],
    }
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "main.py").write_text("print('hello')\n")
    (folder / "data.csv").write_text("a,b\n1,2\n")
    return folder


async def test_resolve_config_fills_defaults_for_a_file(server: Server, project: Path) -> None:
    answer = await server.command("dsjobs.resolveConfig", {"file": str(project / "main.py")})

    config = answer["config"]
    assert answer["source"] == "defaults"
    assert config["program"] == "main.py"
    assert config["workingDirectory"] == str(project)
    assert config["instanceType"] == "c1.4"
    assert config["pythonBuild"] == "auto"
    assert answer["errors"] == []


async def test_resolve_config_uses_the_matching_launch_entry(server: Server, project: Path) -> None:
    (project / ".vscode").mkdir()
    (project / ".vscode" / "launch.json").write_text(LAUNCH_JSON)

    answer = await server.command("dsjobs.resolveConfig", {"file": str(project / "main.py")})

    assert answer["source"] == "launch:train"
    assert answer["config"]["instanceType"] == "g1.1"
    assert answer["launchEntries"] == ["train"]


async def test_validate_config_names_the_bad_field_and_line(server: Server, project: Path) -> None:
    form = (await server.command("dsjobs.resolveConfig", {"file": str(project / "main.py")}))["config"]
    form["inputs"] = ["data.csv=DATA", "other.csv=bad var"]
    form["projectId"] = "NOT-A-PROJECT"

    errors = (await server.command("dsjobs.validateConfig", {"config": form}))["errors"]

    by_field = {error["field"]: error for error in errors}
    assert by_field["inputs"]["line"] == 1 and "bad var" in by_field["inputs"]["message"]
    assert "projectId" in by_field


async def test_save_launch_config_keeps_comments_and_other_entries(server: Server, project: Path) -> None:
    (project / ".vscode").mkdir()
    launch_json = project / ".vscode" / "launch.json"
    launch_json.write_text(LAUNCH_JSON)
    form = (await server.command("dsjobs.resolveConfig", {"file": str(project / "main.py")}))["config"]
    form["instanceType"] = "c1.8"
    form["inputs"] = ["data.csv=DATA"]

    updated = await server.command(
        "dsjobs.saveLaunchConfig", {"config": form, "workspaceFolder": str(project)}
    )
    added = await server.command(
        "dsjobs.saveLaunchConfig", {"config": {**form, "name": "second"}, "workspaceFolder": str(project)}
    )

    assert (updated["created"], added["created"]) == (False, True)
    text = launch_json.read_text()
    for kept in (
        "// Use IntelliSense",
        "// the user's own entry",
        "/* the datasphere entry",
        "// GPU please",
    ):
        assert kept in text
    entries = parse_jsonc(text).value()["configurations"]
    assert [entry["name"] for entry in entries] == ["Python: Current File", "train", "second"]
    train = entries[1]
    assert train["instanceType"] == "c1.8" and train["inputs"] == ["data.csv=DATA"]
    assert train["preLaunchTask"] == "build"  # the user's own key stays
    assert train["workingDirectory"] == "${workspaceFolder}"


async def test_save_launch_config_creates_the_file(server: Server, project: Path) -> None:
    form = (await server.command("dsjobs.resolveConfig", {"file": str(project / "main.py")}))["config"]

    answer = await server.command(
        "dsjobs.saveLaunchConfig", {"config": form, "workspaceFolder": str(project)}
    )

    assert answer["created"]
    data = json.loads((project / ".vscode" / "launch.json").read_text())
    assert data["configurations"][0]["type"] == "datasphere"
    reloaded = await server.command("dsjobs.loadConfig", {"path": answer["path"]})
    assert reloaded["config"]["workingDirectory"] == str(project)
    assert reloaded["source"] == f"launch:{form['name']}"


async def test_export_then_load_round_trips_through_config_yaml(server: Server, project: Path) -> None:
    form = (await server.command("dsjobs.resolveConfig", {"file": str(project / "main.py")}))["config"]
    form.update(
        inputs=["data.csv=DATA"], outputs=["result.txt"], envVars=["MODE:fast"], args=["--epochs", "3"]
    )
    target = project / "config.yaml"

    await server.command("dsjobs.exportConfig", {"config": form, "path": str(target)})
    loaded = await server.command("dsjobs.loadConfig", {"path": str(target)})

    exported = yaml.safe_load(target.read_text())
    assert exported["cmd"] == "python main.py --epochs 3"
    assert loaded["config"]["program"] == "main.py"
    assert loaded["config"]["inputs"] == ["data.csv=DATA"]
    assert loaded["config"]["envVars"] == ["MODE:fast"]
    assert loaded["config"]["args"] == ["--epochs", "3"]


async def test_exported_config_is_accepted_by_the_reference_cli(server: Server, project: Path) -> None:
    from tests.support.reference import reference_python

    form = (await server.command("dsjobs.resolveConfig", {"file": str(project / "main.py")}))["config"]
    form.update(inputs=["data.csv=DATA"], instanceType="g1.1")
    target = project / "config.yaml"
    await server.command("dsjobs.exportConfig", {"config": form, "path": str(target)})

    script = (
        "import sys, pathlib; from datasphere.config import parse_config; "
        "c = parse_config(pathlib.Path(sys.argv[1])); "
        "print(c.cmd, [i.path for i in c.inputs], c.cloud_instance_types)"
    )
    process = await asyncio.create_subprocess_exec(
        str(reference_python()), "-c", script, str(target), cwd=project, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    printed = out.decode()
    assert "python main.py" in printed and "data.csv" in printed and "g1.1" in printed


async def test_load_config_reports_a_broken_file_with_its_line(server: Server, project: Path) -> None:
    broken = project / "config.yaml"
    broken.write_text("cmd: python main.py\nenv:\n  python:\n    type: sometimes\n")

    with pytest.raises(JsonRpcException) as caught:
        await server.command("dsjobs.loadConfig", {"path": str(broken)})

    assert error_data(caught.value)["kind"] == "config"
    error = error_data(caught.value)["errors"][0]
    assert error["field"] == "env.python.type" and error["range"]["start"]["line"] == 3


async def test_bad_arguments_name_the_missing_key(server: Server) -> None:
    with pytest.raises(JsonRpcException) as caught:
        await server.command("dsjobs.exportConfig", {"config": {}})

    assert error_data(caught.value)["kind"] == "invalidParams"
    assert "`path`" in caught.value.message
