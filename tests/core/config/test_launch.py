"""The configuration form / launch.json entry: conversion to a job, merge with config.yaml, field errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsjobs_lsp.core.config import (
    ConfigError,
    DockerImage,
    LaunchConfig,
    job_config_to_launch,
    launch_to_job_config,
    load_config,
    validate_launch,
)
from tests.core.config.helpers import meaning


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("if __name__ == '__main__':\n    pass\n")
    (tmp_path / "data.csv").write_text("1\n")
    return tmp_path


def test_form_becomes_a_job(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSJOBS_FORM_LOCAL", "here")
    launch = LaunchConfig.model_validate(
        {
            "type": "datasphere",
            "request": "launch",
            "program": str(project / "src" / "train.py"),
            "args": ["--name", "my run"],
            "workingDirectory": str(project),
            "inputs": ["data.csv=DATA", ""],
            "outputs": ["out/"],
            "instanceType": "g1.1",
            "datasets": ["dddddddddddddddddddd=DS"],
            "envVars": ["MODE:fast:really", "DSJOBS_FORM_LOCAL"],
            "dockerImage": "cr.yandex/r/i:1",
            "dockerUsername": "json_key",
            "dockerPasswordSecret": "key",
            "extraIndexUrls": ["https://extra.example.org/simple"],
            "noDependencies": True,
            "jobName": "form job",
        }
    )
    config = launch_to_job_config(launch, base_dir=project)
    assert config.cmd == "python src/train.py --name 'my run'"
    assert [(i.path, i.var) for i in config.inputs] == [("data.csv", "DATA")]
    assert [(i.path, i.var) for i in config.upload_inputs()][-1] == ("src/train.py", None)
    assert [(o.path, o.var) for o in config.outputs] == [("out/", None)]
    assert config.cloud_instance_types == ["g1.1"]
    assert config.env.resolved_vars() == {"MODE": "fast:really", "DSJOBS_FORM_LOCAL": "here"}
    assert config.env.docker == DockerImage(
        image="cr.yandex/r/i:1", username="json_key", password_secret_id="key"
    )
    python = config.env.python
    assert python is not None and python.type == "auto" and python.pip is not None
    assert python.pip.no_deps and python.pip.extra_index_urls == ["https://extra.example.org/simple"]
    assert config.name == "form job"


def test_errors_name_the_form_field(project: Path) -> None:
    launch = LaunchConfig(program="src/train.py", working_directory=str(project), inputs=["missing.csv=M"])
    with pytest.raises(ConfigError) as raised:
        launch_to_job_config(launch, base_dir=project)
    assert [issue.key for issue in raised.value.errors] == ["inputs"]
    assert "missing.csv" in raised.value.errors[0].message
    assert str(raised.value).startswith("inputs: inputs[0]: "), "the form field, no pseudo file name or line"


def test_validate_launch_points_at_field_and_line() -> None:
    launch = LaunchConfig(
        program="a.py",
        project_id="Bad",
        datasets=["dddddddddddddddddddd=OK", "short=X"],
        envVars=[":nothing"],
        python_version="3",
        instance_type="g9.9",
        docker_username="u",
    )
    found = {(i.key, i.line, i.severity) for i in validate_launch(launch)}
    assert found == {
        ("projectId", 0, "error"),
        ("datasets", 1, "error"),
        ("envVars", 0, "error"),
        ("pythonVersion", 0, "error"),
        ("instanceType", 0, "warning"),
        ("dockerImage", 0, "error"),
    }


def test_program_outside_working_directory_is_rejected(project: Path) -> None:
    launch = LaunchConfig(program="/elsewhere/x.py", working_directory=str(project / "src"))
    with pytest.raises(ConfigError) as raised:
        launch_to_job_config(launch, base_dir=project)
    assert raised.value.errors[0].key == "program"


def test_config_file_is_loaded_and_filled_fields_override_it(project: Path) -> None:
    (project / "config.yaml").write_text(
        "name: from file\ncmd: python src/train.py\ninputs:\n  - data.csv: DATA\noutputs:\n  - a.txt\n"
        "graceful-shutdown: {signal: SIGINT, timeout: 10s}\n"
        "env:\n  python:\n    type: manual\n    version: '3.10'\n"
    )
    launch = LaunchConfig(
        config_file="config.yaml", working_directory=str(project), outputs=["b.txt=B"], instance_type="c1.8"
    )
    config = launch_to_job_config(launch, base_dir=project)
    assert config.name == "from file" and config.cmd == "python src/train.py"
    assert [(i.path, i.var) for i in config.inputs] == [("data.csv", "DATA")]
    assert [(o.path, o.var) for o in config.outputs] == [("b.txt", "B")]
    assert config.cloud_instance_types == ["c1.8"]
    assert config.graceful_shutdown is not None and config.graceful_shutdown.signal == "SIGINT"
    assert config.env.python is not None and config.env.python.version == "3.10"


def test_broken_config_file_is_reported_on_the_config_file_field(project: Path) -> None:
    (project / "config.yaml").write_text("cmd: python src/train.py\nworking-storage: {size: 1Gb}\n")
    launch = LaunchConfig(config_file="config.yaml", working_directory=str(project))
    with pytest.raises(ConfigError) as raised:
        launch_to_job_config(launch, base_dir=project)
    [issue] = raised.value.errors
    assert issue.key == "configFile"
    assert issue.message.startswith("config.yaml:2: working-storage.size:")


def test_config_to_form_and_back_keeps_the_meaning(project: Path) -> None:
    (project / "config.yaml").write_text(
        "name: n\ncmd: python src/train.py --epochs 3 'two words'\ninputs:\n  - data.csv: DATA\n"
        "outputs: [out.bin]\ndatasets:\n  - dddddddddddddddddddd: DS\nenv:\n  vars:\n    - A: b\n"
        "  docker: b1gdocker00000000000\n  python:\n    type: manual\n    version: '3.11'\n"
        "    pip:\n      extra-index-urls: [https://x.example.org]\ncloud-instance-types: g2.1\n"
    )
    original = load_config(project / "config.yaml").config
    launch = job_config_to_launch(original, program=project / "src" / "train.py", working_dir=project)
    assert launch.program == "src/train.py" and launch.args == ["--epochs", "3", "two words"]
    assert launch.model_dump(by_alias=True)["workingDirectory"] == str(project)
    again = launch_to_job_config(
        LaunchConfig.model_validate(launch.model_dump(by_alias=True)), base_dir=project
    )
    assert meaning(again) == meaning(original)
