"""Where outputs land: inside the output folder, or — with a variable — at their absolute or `../` path."""

from __future__ import annotations

from pathlib import Path

import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.jobs.destinations import OutputPathError, download_groups


def storage(path: str, var: str = "") -> jobs_pb2.StorageFile:
    return jobs_pb2.StorageFile(file=jobs_pb2.File(desc=jobs_pb2.FileDesc(path=path, var=var)), url="u")


def test_outputs_with_variables_go_to_their_own_paths(tmp_path: Path) -> None:
    work = tmp_path / "project"
    files = [storage("out/a.txt"), storage("/data/r.txt", "R"), storage("../b.txt", "B")]
    files += [storage("x/../c", "C"), storage("//tmp/d.txt", "D")]
    groups = download_groups(files, work)
    assert {base: [f.file.desc.path for f in group] for base, group in groups.items()} == {
        work: ["out/a.txt", "c"],
        Path("/"): ["data/r.txt", str(tmp_path / "b.txt").lstrip("/"), "tmp/d.txt"],
    }
    assert files[1].file.desc.path == "/data/r.txt"  # the caller's messages are left alone


@pytest.mark.parametrize("path", ["/etc/x", "../x", "//tmp/x", "a/../../x"])
def test_an_output_leaving_the_folder_without_a_variable_is_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(OutputPathError, match="without a variable"):
        download_groups([storage(path)], tmp_path)
