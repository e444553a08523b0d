"""The client's state and cache are private (0700 folders, 0600 databases), also when they existed before."""

from __future__ import annotations

import stat
from pathlib import Path

from dsjobs_lsp.core.jobs.models import JobStatus
from dsjobs_lsp.core.jobs.runner import JobRunner
from dsjobs_lsp.core.settings import Settings
from tests.core.jobs.test_jobs_runner import Recorder, request_for


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_state_and_cache_become_private_even_if_they_existed_open(
    runner: JobRunner, settings: Settings, project: Path, job_python: Path
) -> None:
    settings.cache_dir.mkdir(parents=True, mode=0o755)
    settings.state_dir.chmod(0o755)
    for database in (settings.history_db, settings.cache_dir / "hashes.sqlite3"):
        database.touch(mode=0o644)
        database.with_name(database.name + "-wal").touch(mode=0o644)

    outcome = await runner.run(request_for(project, job_python), Recorder())

    assert outcome.status == JobStatus.SUCCESS
    folders = [settings.state_dir, settings.cache_dir, settings.cache_dir / "archives"]
    assert {str(folder): mode(folder) for folder in folders} == {str(folder): 0o700 for folder in folders}
    files = [p for p in (*settings.state_dir.iterdir(), *settings.cache_dir.iterdir()) if p.is_file()]
    assert len(files) >= 4
    assert {str(file): mode(file) for file in files} == {str(file): 0o600 for file in files}
