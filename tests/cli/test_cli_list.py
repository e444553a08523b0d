"""`dsjobs project job list` of a project longer than a page (ours asks for 1000 jobs a page, the reference
for 50), against a local backend in this process: the same table as the reference's, and a command that
loads none of the run pipeline's modules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.core.jobs.history import History
from dsjobs_lsp.core.jobs.models import JobRecord, JobStatus
from tests.support.dsjobs_cli import loaded, run_probed
from tests.support.local_backend import running_local_server
from tests.support.reference import reference_python
from tests.support.reference_cli import run_reference_cli

JOBS = 1050
NAMES = ("listed", "train 1", "42", "")
"""Job names, in turn: a number among words keeps the column text; an unnamed job prints nothing."""
UNUSED = (
    "httpx",
    "yaml",
    "tabulate",
    "dsjobs_lsp.core.config",
    "dsjobs_lsp.core.pyenv",
    "dsjobs_lsp.cli.run_file",
)
"""What a job list has no use for: uploads, config.yaml, tabulate (for a plain table), the run pipeline."""


@pytest.fixture
async def listed(tmp_path: Path) -> AsyncIterator[LocalServer]:
    """A local backend in this process whose project has `JOBS` jobs."""
    async with running_local_server(tmp_path / "data") as server:
        for index in range(JOBS):
            request = service_pb2.CreateProjectJobRequest(
                project_id=LOCAL_PROJECT_ID,
                name=NAMES[index % len(NAMES)],
                desc="every tenth" if index % 10 == 0 else "",
                job_parameters=jobs_pb2.JobParameters(cmd="true"),
            )
            await server.engine.create(request)
        yield server


async def list_ours(server: LocalServer, root: Path, *args: str) -> list[str]:
    """`dsjobs project job list ARGS`: the modules it loaded."""
    modules, _ = await run_probed(server, root, root, "project", "job", "list", *args)
    return modules


async def test_a_job_list_loads_neither_the_run_pipeline_nor_tabulate(
    listed: LocalServer, tmp_path: Path
) -> None:
    table = tmp_path / "jobs.txt"
    modules = await list_ours(listed, tmp_path, "-o", str(table))

    assert loaded(modules, UNUSED) == []
    lines = table.read_text().splitlines()
    assert len(lines) == 2 + JOBS
    assert lines[0].split() == [
        "ID", "Name", "Description", "Created", "at", "Finished", "at", "Status", "Created", "by", "Data",
        "cleared", "Data", "expires", "at",
    ]  # fmt: skip


async def test_a_job_list_refreshes_the_jobs_in_history_and_adds_no_others(
    listed: LocalServer, tmp_path: Path
) -> None:
    history = History(tmp_path / "state" / "history.sqlite3")  # the state dir of `run_probed`'s dsjobs
    first = listed.engine.state.project_jobs(LOCAL_PROJECT_ID, before=None, limit=1)[0]
    await history.upsert(
        JobRecord(id=first.id, backend="local", project_id=LOCAL_PROJECT_ID, status=JobStatus.EXECUTING)
    )

    await list_ours(listed, tmp_path, "-o", str(tmp_path / "jobs.txt"))

    records = await history.list(LOCAL_PROJECT_ID, limit=JOBS)
    assert [(r.id, r.status, r.name) for r in records] == [(first.id, JobStatus.CREATING, first.name or None)]


@pytest.mark.reference
async def test_a_list_longer_than_a_page_is_the_references_table_byte_for_byte(
    listed: LocalServer, tmp_path: Path
) -> None:
    try:
        reference_python()
    except Exception as error:  # the venv is built from the registry on first use
        pytest.skip(f"reference datasphere venv unavailable: {error}")
    for fmt in ("table", "json"):
        ours, theirs = tmp_path / f"ours.{fmt}", tmp_path / f"theirs.{fmt}"
        await list_ours(listed, tmp_path, "--format", fmt, "-o", str(ours))
        run = await run_reference_cli(
            listed.endpoints.jobs,
            listed.token,
            ["project", "job", "list", "-p", LOCAL_PROJECT_ID, "--format", fmt, "-o", str(theirs)],
            cwd=tmp_path,
            launcher_dir=tmp_path / "launcher",
        )
        assert run.returncode == 0, run.output
        assert ours.read_bytes() == theirs.read_bytes()
    assert len((tmp_path / "ours.table").read_text().splitlines()) == 2 + JOBS
