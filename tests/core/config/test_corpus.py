"""The corpus against the official `datasphere` 0.10.0 parser: same verdict, same meaning, same after dump."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsjobs_lsp.core.config import ConfigError, dump_config, load_config
from tests.core.config.helpers import COPIED_VAR, CORPUS, case_names, meaning
from tests.support.reference import reference_python

pytestmark = pytest.mark.reference

Results = dict[tuple[str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the corpus (the reference may write nothing into the tree), with our dumps beside each
    valid config, and the copied environment variable set."""
    root = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(CORPUS, root)
    (root / "valid" / "shebang_script" / "run.py").chmod(0o755)
    os.environ[COPIED_VAR[0]] = COPIED_VAR[1]
    for case in case_names("valid"):
        folder = root / "valid" / case
        (folder / "dumped.yaml").write_text(dump_config(load_config(folder / "config.yaml").config))
    yield root
    os.environ.pop(COPIED_VAR[0], None)


@pytest.fixture(scope="module")
def reference(corpus: Path) -> Results:
    """Every corpus file parsed by the reference, in one subprocess."""
    folders = sorted(str(path) for path in corpus.glob("*/*") if path.is_dir())
    script = Path(__file__).parent / "reference_parse.py"
    completed = subprocess.run(
        [str(reference_python()), str(script), *folders],
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
        env={**os.environ, COPIED_VAR[0]: COPIED_VAR[1]},
    )
    rows = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return {(row["case"], row["file"]): row for row in rows}


def _expect(folder: Path) -> dict[str, Any]:
    path = folder / "expect.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def test_corpus_is_large_enough() -> None:
    assert len(case_names("valid")) >= 25
    assert len(case_names("invalid")) >= 25


@pytest.mark.parametrize("case", case_names("valid"))
def test_valid_config_means_what_the_reference_reads(case: str, corpus: Path, reference: Results) -> None:
    folder = corpus / "valid" / case
    theirs = reference[(case, "config.yaml")]
    assert theirs["ok"], theirs.get("error")
    loaded = load_config(folder / "config.yaml")
    assert meaning(loaded.config) == theirs["meaning"]
    expected_warnings = set(_expect(folder).get("warnings", []))
    assert {warning.key for warning in loaded.warnings} == expected_warnings


@pytest.mark.parametrize("case", case_names("valid"))
def test_dumped_config_keeps_its_meaning(case: str, corpus: Path, reference: Results) -> None:
    folder = corpus / "valid" / case
    original = load_config(folder / "config.yaml").config
    reread = load_config(folder / "dumped.yaml").config
    assert meaning(reread) == meaning(original)
    theirs = reference[(case, "dumped.yaml")]
    assert theirs["ok"], theirs.get("error")
    assert theirs["meaning"] == reference[(case, "config.yaml")]["meaning"]


@pytest.mark.parametrize("case", case_names("invalid"))
def test_invalid_config_is_rejected_with_key_and_line(case: str, corpus: Path, reference: Results) -> None:
    folder = corpus / "invalid" / case
    assert not reference[(case, "config.yaml")]["ok"]
    expect = _expect(folder)
    with pytest.raises(ConfigError) as raised:
        load_config(folder / "config.yaml")
    located = {(issue.key, issue.line + 1) for issue in raised.value.errors}
    assert (expect["key"], expect["line"]) in located
    prefix = f"{folder / 'config.yaml'}:{expect['line']}: " + (f"{expect['key']}: " if expect["key"] else "")
    assert prefix in str(raised.value)


@pytest.mark.parametrize("case", case_names("stricter"))
def test_stricter_than_the_reference_parser(case: str, corpus: Path, reference: Results) -> None:
    """Configs the reference parses but then fails to run: we reject them up front, naming the key."""
    folder = corpus / "stricter" / case
    assert reference[(case, "config.yaml")]["ok"]
    expect = _expect(folder)
    with pytest.raises(ConfigError) as raised:
        load_config(folder / "config.yaml")
    assert (expect["key"], expect["line"]) in {(i.key, i.line + 1) for i in raised.value.errors}
