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
