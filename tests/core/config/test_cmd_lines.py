"""A folded `cmd: >` whose more-indented lines YAML keeps apart: a warning naming them, nothing changed."""

from __future__ import annotations

from pathlib import Path

from dsjobs_lsp.core.config import check_config_text, load_config

DOCS_SHAPE = """\
name: train
cmd: >
  python main.py
    --epochs 3
    --lr 0.1
"""


def test_the_docs_folded_cmd_warns_naming_each_command_line(tmp_path: Path) -> None:
    (issue,) = check_config_text(DOCS_SHAPE, source="config.yaml", base_dir=tmp_path)
    assert issue.severity == "warning" and issue.key == "cmd" and issue.line == 1
    assert "3 separate shell commands" in issue.message
    for where in ("line 3: `python main.py`", "line 4: `--epochs 3`", "line 5: `--lr 0.1`"):
        assert where in issue.message
    assert "indent every line of the block like the first" in issue.message and "` \\`" in issue.message


def test_the_command_is_kept_as_yaml_reads_it(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(DOCS_SHAPE)
    loaded = load_config(tmp_path / "config.yaml")
    assert loaded.config.cmd == "python main.py\n  --epochs 3\n  --lr 0.1\n"
    assert [w.key for w in loaded.warnings] == ["cmd"]


def test_folded_lines_joined_into_one_command_and_literal_blocks_do_not_warn(tmp_path: Path) -> None:
    for text in (
        "cmd: >\n  python main.py\n  --epochs 3\n",
        "cmd: >\n  python main.py \\\n    --epochs 3 \\\n    --lr 0.1\n",
        "cmd: |\n  pip list\n  python main.py\n",
        "cmd: python main.py\n  --epochs 3\n",
    ):
        assert check_config_text(text, source="config.yaml", base_dir=tmp_path) == [], text
