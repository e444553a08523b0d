"""File lists of config.yaml: duplicate and nested entries of `inputs`/`outputs`."""

from __future__ import annotations

from pathlib import Path

from dsjobs_lsp.core.config import check_config_text


def _findings(folder: Path, inputs: list[str]) -> list[tuple[str, str]]:
    for name in inputs:
        (folder / name).mkdir(parents=True, exist_ok=True)
    text = "cmd: python main.py\ninputs:\n" + "".join(f"  - {name}\n" for name in inputs)
    return [(issue.key, issue.message) for issue in check_config_text(text, base_dir=folder)]


def test_duplicates_and_nesting_are_reported_at_the_later_entry_once_per_other_path(tmp_path: Path) -> None:
    found = _findings(tmp_path, ["data", "data/a", "other", "data", "data/a/b", "data/ab", "./other"])
    assert found == [
        ("inputs[1]", "`data/a` overlaps another entry of `inputs`"),
        ("inputs[3]", "`data` is listed twice"),
        ("inputs[3]", "`data` overlaps another entry of `inputs`"),  # with data/a
        ("inputs[4]", "`data/a/b` overlaps another entry of `inputs`"),  # in data
        ("inputs[4]", "`data/a/b` overlaps another entry of `inputs`"),  # in data/a
        ("inputs[5]", "`data/ab` overlaps another entry of `inputs`"),  # in data, not in data/a
        ("inputs[6]", "`./other` is listed twice"),
    ]


def test_a_hundred_separate_inputs_have_no_finding_and_one_nested_pair_is_found(tmp_path: Path) -> None:
    names = [f"d{i:03d}" for i in range(99)]
    assert _findings(tmp_path, names) == []
    assert _findings(tmp_path, [*names, "d042/inner"]) == [
        ("inputs[99]", "`d042/inner` overlaps another entry of `inputs`")
    ]


def test_entries_reaching_one_folder_through_a_symlink_overlap(tmp_path: Path) -> None:
    (tmp_path / "real" / "inner").mkdir(parents=True)
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "to-inner").symlink_to(tmp_path / "real" / "inner")
    assert _findings(tmp_path, ["real", "alias/inner", "linked/to-inner", "alias"]) == [
        ("inputs[1]", "`alias/inner` overlaps another entry of `inputs`"),
        ("inputs[2]", "`linked/to-inner` is listed twice"),
        ("inputs[2]", "`linked/to-inner` overlaps another entry of `inputs`"),
        ("inputs[3]", "`alias` is listed twice"),
        ("inputs[3]", "`alias` overlaps another entry of `inputs`"),
    ]


def _root_module_findings(folder: Path, cmd: str, inputs: list[str], env: str) -> list[tuple[str, str]]:
    """Findings of a config whose script `src/train.py` exists, with `env` as its `env:` section."""
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "train.py").write_text("print('ok')\n")
    (folder / "data.csv").write_text("x\n")
    listed = "".join(f"  - {name}\n" for name in inputs)
    text = f"cmd: {cmd}\ninputs:\n{listed}{env}"
    return [(issue.key, issue.message) for issue in check_config_text(text, base_dir=folder)]


def test_an_input_repeating_or_holding_the_main_script_is_refused_as_the_reference_refuses_it(
    tmp_path: Path,
) -> None:
    """With `env.python` the main script is uploaded on its own; the reference then stops the job with
    "Paths must be unique" / "Path '…/src/train.py' is included in path '…/src'"."""
    auto = "env:\n  python: auto\n"
    tail = (
        ", which `env.python` uploads on its own; the `datasphere` CLI refuses the job when an input repeats "
        "or overlaps it: leave it out of `inputs`"
    )
    repeated = _root_module_findings(tmp_path, "python src/train.py", ["data.csv", "./src/train.py"], auto)
    holding = _root_module_findings(tmp_path, "python src/train.py", ["src", "data.csv"], auto)
    assert repeated == [("inputs[1]", "`./src/train.py` is the program's root module `src/train.py`" + tail)]
    assert holding == [("inputs[0]", "`src` holds the program's root module `src/train.py`" + tail)]


def test_without_python_analysis_the_main_script_may_be_an_input(tmp_path: Path) -> None:
    manual = (
        "env:\n  python:\n    type: manual\n    version: '3.10'\n    requirements-file: ''\n"
        "    local-paths: []\n"
    )
    for env in ("", manual):
        assert _root_module_findings(tmp_path, "python src/train.py", ["src"], env) == []
