"""The client-side half of a run (`core.jobs.prepare`): what it tells the user about the files it ships."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsjobs_lsp.backends.cloud import CLOUD_ENDPOINTS
from dsjobs_lsp.backends.endpoints import Endpoints
from dsjobs_lsp.core.jobs.prepare import LARGE_INPUT_FOLDER_BYTES, deflates_archives, input_folder_warnings
from dsjobs_lsp.core.packaging import PackItem, PreparedFile


def test_input_folders_with_vcs_or_dependency_folders_get_a_warning(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "node_modules").mkdir()
    (tmp_path / "plain").mkdir()
    items = [
        PackItem(tmp_path / "repo", "repo"),
        PackItem(tmp_path / "plain", "plain"),
        PackItem(tmp_path / "big", "big"),
        PackItem(tmp_path / "file.txt", "file.txt"),
    ]
    prepared = [
        PreparedFile("repo", None, tmp_path / "r.zip", "a" * 64, 10, "ZIP"),
        PreparedFile("plain", None, tmp_path / "p.zip", "b" * 64, 10, "ZIP"),
        PreparedFile("big", None, tmp_path / "b.zip", "c" * 64, LARGE_INPUT_FOLDER_BYTES, "ZIP"),
        PreparedFile("file.txt", None, tmp_path / "file.txt", "d" * 64, LARGE_INPUT_FOLDER_BYTES, "NONE"),
    ]
    warnings = input_folder_warnings(items, prepared)
    assert len(warnings) == 2
    assert warnings[0].startswith("input folder repo ships whole") and "(.git/, node_modules/)" in warnings[0]
    assert warnings[1].startswith("input folder big ships whole") and "100.0MB zipped" in warnings[1]


@pytest.mark.parametrize(
    ("store", "deflated"),
    [
        ("http://127.0.0.1:8080", False),
        ("http://127.0.0.2:8080", False),
        ("http://localhost:8080", False),
        ("http://[::1]:8080", False),
        ("http://10.0.0.5:8080", True),  # a local backend served to another machine
        ("https://files.example.org", True),
    ],
)
def test_archives_are_deflated_unless_the_store_is_on_this_machine(store: str, deflated: bool) -> None:
    local = Endpoints("local", "127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1", False, store)
    assert deflates_archives(local) is deflated
    assert deflates_archives(CLOUD_ENDPOINTS) is True
