"""Both ways a job gets a dataset it cannot change: read-only binds (where permitted) and private copies.

The laid-out command runs for real under `/bin/sh -c`, as the wrapper runs it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID
from dsjobs_lsp.backends.local.resources import ResourceRegistry, finish_resources, mount_resources
from dsjobs_lsp.backends.local.resources.isolation import read_only_binds_available

WRITES = 'echo changed > "$1/a.txt"; rm -f "$1/b.txt"; touch "$1/new"; cat "$1/a.txt"'


def run_job_shell(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("binds", [False, True], ids=["private copy", "read-only bind"])
def test_writes_never_reach_the_dataset_and_the_view_goes_with_the_job(binds: bool, tmp_path: Path) -> None:
    if binds and not read_only_binds_available():
        pytest.skip("read-only bind mounts are not permitted here (the backend uses private copies)")
    registry = ResourceRegistry(tmp_path / "data")
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.txt").write_text("original\n")
    (source / "b.txt").write_text("b\n")
    dataset = registry.create_dataset(LOCAL_PROJECT_ID, "d", source)
    params = jobs_pb2.JobParameters(cmd="unused", dataset_ids=[dataset.id])
    job = jobs_pb2.Job(id="job", project_id=LOCAL_PROJECT_ID, job_parameters=params)
    mnt = tmp_path / "job" / "mnt"

    mounts = mount_resources(registry, LOCAL_PROJECT_ID, params, mnt, binds=binds)
    view = mounts.variables[dataset.id]
    done = run_job_shell(mounts.wrap(f"set -- {view}; {WRITES}"))
    finish_resources(registry, job, mnt, succeeded=True)

    assert sorted(p.name for p in dataset.folder.iterdir()) == ["a.txt", "b.txt"]
    assert (dataset.folder / "a.txt").read_text() == "original\n"
    assert not mnt.exists()
    if binds:
        assert done.stdout == "original\n" and "Read-only file system" in done.stderr
    else:
        assert done.stdout == "changed\n"


def test_a_command_without_datasets_is_left_as_it_is(tmp_path: Path) -> None:
    params = jobs_pb2.JobParameters(cmd="true")
    mounts = mount_resources(
        ResourceRegistry(tmp_path), LOCAL_PROJECT_ID, params, tmp_path / "mnt", binds=True
    )

    assert mounts.wrap("echo 'a b' $X") == "echo 'a b' $X"
