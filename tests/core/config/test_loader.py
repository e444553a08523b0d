"""Loading config.yaml: positions of issues, warnings for silent traps, and the error text users see."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsjobs_lsp.core.config import ConfigError, check_config_text, load_config, parse_config_text


def _write(folder: Path, text: str, *files: str) -> Path:
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x = 1\n")
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def test_error_text_names_file_line_and_key(tmp_path: Path) -> None:
    text = (
        "cmd: python main.py\nenv:\n  python:\n    type: auto\n    pip:\n"
        "      no-deps: 'true'\n      index-url: [a]\n"
    )
    with pytest.raises(ConfigError) as raised:
        parse_config_text(text, source="config.yaml", base_dir=tmp_path)
    assert str(raised.value) == "config.yaml:7: env.python.pip.index-url: should be a string"
    issue = raised.value.errors[0]
    assert (issue.line, issue.column, issue.end_line, issue.end_column) == (6, 17, 6, 20)


def test_near_miss_key_gets_a_suggestion_at_the_key(tmp_path: Path) -> None:
    text = "cmd: python main.py\nenv:\n  python:\n    type: auto\n    root-path: [helper.py]\n"
    loaded = parse_config_text(text, base_dir=tmp_path)
    [warning] = loaded.warnings
    assert warning.key == "env.python.root-path"
    assert "did you mean `root-paths`?" in warning.message
    assert (warning.line, warning.column, warning.end_column) == (4, 4, 13)
    assert loaded.config.env.python is not None and loaded.config.env.python.root_paths is None


@pytest.mark.parametrize("value", ["True", "yes", "1", "TRUE"])
def test_no_deps_other_than_lowercase_true_reads_false_with_a_warning(tmp_path: Path, value: str) -> None:
    text = f"cmd: python main.py\nenv:\n  python:\n    type: auto\n    pip:\n      no-deps: {value}\n"
    loaded = parse_config_text(text, base_dir=tmp_path)
    pip = loaded.config.env.python.pip if loaded.config.env.python else None
    assert pip is not None and pip.no_deps is False
    assert [w.key for w in loaded.warnings] == ["env.python.pip.no-deps"]
    assert "only the exact lowercase `true`" in loaded.warnings[0].message


def test_no_deps_true_enables_without_warning(tmp_path: Path) -> None:
    text = "cmd: python main.py\nenv:\n  python:\n    type: auto\n    pip:\n      no-deps: true\n"
    loaded = parse_config_text(text, base_dir=tmp_path)
    assert loaded.config.env.python and loaded.config.env.python.pip and loaded.config.env.python.pip.no_deps
    assert loaded.warnings == []


def test_unknown_key_without_close_match_lists_known_keys(tmp_path: Path) -> None:
    loaded = parse_config_text("cmd: python main.py\nzzz: 1\n", base_dir=tmp_path)
    assert loaded.warnings[0].key == "zzz" and "known keys: name, desc, cmd" in loaded.warnings[0].message


def test_python_auto_true_suggests_python_auto(tmp_path: Path) -> None:
    issues = check_config_text("cmd: python main.py\nenv:\n  python:\n    auto: true\n", base_dir=tmp_path)
    assert [(i.key, i.severity) for i in issues] == [("env.python", "error")]
    assert "write `python: auto`" in issues[0].message


def test_variable_with_reference_typo_characters_is_accepted_with_warning(tmp_path: Path) -> None:
    loaded = parse_config_text("cmd: python main.py ${a^b}\noutputs:\n  - out.txt: a^b\n", base_dir=tmp_path)
    assert loaded.config.outputs[0].var == "a^b"
    assert [w.key for w in loaded.warnings] == ["outputs[0]"]


def test_check_config_text_never_raises_and_orders_issues(tmp_path: Path) -> None:
    assert check_config_text("cmd: [unclosed\n", base_dir=tmp_path)[0].message.startswith("invalid YAML")
    assert check_config_text("- just\n- a list\n", base_dir=tmp_path)[0].severity == "error"
    assert check_config_text("", base_dir=tmp_path)[0].message.startswith("the config is empty")
    text = "cmd: python main.py ${X}\nzzz: 1\ninputs:\n  - nope.txt\n"
    issues = check_config_text(text, base_dir=tmp_path)
    assert [(i.line, i.key, i.severity) for i in issues] == [
        (1, "zzz", "warning"),
        (3, "inputs[0]", "error"),
    ]


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    text = "cmd: python main.py\ninputs: [nope.txt]\nworking-storage: {size: 5Gb}\nflags: x\n"
    keys = {issue.key for issue in check_config_text(text, base_dir=tmp_path)}
    assert keys == {"inputs[0]", "working-storage.size", "flags"}


def test_paths_are_checked_against_base_dir_not_cwd(tmp_path: Path) -> None:
    path = _write(tmp_path, "cmd: python main.py\ninputs:\n  - data/a.txt\n", "data/a.txt")
    assert load_config(path).config.inputs[0].path == "data/a.txt"
    with pytest.raises(ConfigError):
        load_config(path, base_dir=tmp_path / "data")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml:1: cannot read the file"):
        load_config(tmp_path / "nope.yaml")


def test_env_var_is_copied_from_the_local_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSJOBS_TEST_SECRETLESS", "from-here")
    loaded = parse_config_text(
        "cmd: python main.py\nenv:\n  vars:\n    - DSJOBS_TEST_SECRETLESS\n", base_dir=tmp_path
    )
    assert loaded.config.env.resolved_vars() == {"DSJOBS_TEST_SECRETLESS": "from-here"}


def test_resolved_cmd_replaces_dataset_and_s3_variables(tmp_path: Path) -> None:
    text = (
        "cmd: python main.py ${D} ${S} ${DS_PROJECT_HOME}\nflags: [attach-project-disk]\n"
        "datasets:\n  - dddddddddddddddddddd: D\ns3-mounts:\n  - ssssssssssssssssssss: S\n"
    )
    config = parse_config_text(text, base_dir=tmp_path).config
    assert (
        config.resolved_cmd()
        == "python main.py ${dddddddddddddddddddd} ${ssssssssssssssssssss} ${DS_PROJECT_HOME}"
    )


def test_module_entry_point_is_not_uploaded_but_root_paths_are(tmp_path: Path) -> None:
    text = "cmd: python -m pkg.main --x\nenv:\n  python:\n    type: auto\n    root-paths: [extra.py]\n"
    config = parse_config_text(text, base_dir=tmp_path).config
    assert [(m.path, m.is_name) for m in config.root_modules] == [("extra.py", False), ("pkg.main", True)]
    assert [item.path for item in config.upload_inputs()] == ["extra.py"]


def test_python_version_patch_is_dropped_with_warning(tmp_path: Path) -> None:
    text = "cmd: python main.py\nenv:\n  python:\n    type: manual\n    version: 3.11.7\n"
    loaded = parse_config_text(text, base_dir=tmp_path)
    assert loaded.config.env.python and loaded.config.env.python.version == "3.11"
    assert loaded.warnings[0].key == "env.python.version" and loaded.warnings[0].line == 4
