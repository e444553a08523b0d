"""The SDK in this process against the real local backend: runs from the form's fields, failures, async
twins on a running loop, cancel and attach, the reference's wrapper properties, fork errors."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dsjobs_lsp import SDK, JobFailedError
from dsjobs_lsp.core.jobs.fork import ForkError
from dsjobs_lsp.core.jobs.models import JobStatus
from tests.sdk.sweep_project import expected_loss


def _form(project: Path, *extra: str) -> dict[str, object]:
    """`run()` arguments for main.py from the form's fields (no config.yaml)."""
    return {
        "program": project / "main.py",
        "args": ["--lr", "0.2", "--data", "data.txt", "--out", "result.json", *extra],
        "inputs": ["data.txt"],
        "outputs": {"result.json": ""},
        "env_vars": {"SEED": "1"},
        "job_name": "from-the-form",
    }


def test_run_from_the_form_fields_and_a_failure_carries_status_and_exit_code(
    sdk_env: dict[str, str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdk = SDK()
    job = sdk.run(**_form(project))  # type: ignore[arg-type]
    assert job.done and job.status == JobStatus.SUCCESS and job.exit_code == 0
    assert (project / "result.json").is_file()
    assert f"lr=0.2 loss={expected_loss(0.2):.4f}" in capsys.readouterr().out

    with pytest.raises(JobFailedError) as caught:
        sdk.run(**_form(project, "--fail"))  # type: ignore[arg-type]
    failure = caught.value
    assert failure.exit_code == 3 and failure.return_code == 3
    assert failure.status == JobStatus.ERROR and failure.job_id
    assert "program returned code 3" in str(failure)
    assert "program returned code 3" in capsys.readouterr().err


async def test_async_twins_on_a_running_loop(sdk_env: dict[str, str], project: Path) -> None:
    sdk = SDK()
    base = await sdk.arun(config="config.yaml", working_dir=project, wait=False)
    assert base.operation_id
    await base.await_done(output_dir=project / "base")
    forks = await asyncio.gather(*(sdk.afork_job(base.id, args={"LR": lr}) for lr in ("0.1", "0.3")))
    await asyncio.gather(*(job.await_done(output_dir=project / job.id) for job in forks))
    listed = {record.id for record in await sdk.alist_jobs()}
    assert {base.id, *(job.id for job in forks)} <= listed
    got = await sdk.aget_job(forks[0].id)
    assert got.job is not None and got.job.id == forks[0].id
    paths = await sdk.adownload_job_files(forks[1].id, output_dir=project / "again")
    assert paths == [project / "again" / "result.json"]


def test_cancel_then_attach_reports_the_cancellation(sdk_env: dict[str, str], project: Path) -> None:
    sdk = SDK()
    job = sdk.run(**_form(project, "--sleep", "60"), wait=False)  # type: ignore[arg-type]
    sdk.cancel(job.id)
    with pytest.raises(JobFailedError) as caught:
        sdk.attach(job.id)
    assert caught.value.status == JobStatus.CANCELLED and job.done


def test_reference_wrapper_properties_and_fork_errors(sdk_env: dict[str, str], project: Path) -> None:
    sdk = SDK(log_level="WARNING")
    base = sdk.run(config="config.yaml", working_dir=project)
    fetched = sdk.get_job(base.id)
    assert (fetched.id, fetched.operation_id, fetched.done) == (base.id, base.operation_id, True)
    assert fetched.job is not None and fetched.job.name == "sweep-base"

    with pytest.raises(ForkError, match="Argument with name 'EPOCHS' is not present in source job"):
        sdk.fork_job(base.id, args={"EPOCHS": "3"})
    with pytest.raises(ValueError, match="No variable path in source job: MISSING"):
        sdk.fork_job(base.id, vars={"MISSING": "x.txt"})
    with pytest.raises(ValueError, match="Plain text password is prohibited"):
        sdk.fork_job(base.id, docker={"image": "cr.yandex/x:1", "password": "secret"})
    with pytest.raises(ValueError, match="log_level 'LOUD'"):
        SDK(log_level="LOUD")


def test_a_sync_call_from_the_sdks_own_loop_is_refused(sdk_env: dict[str, str]) -> None:
    sdk = SDK()

    async def inside() -> None:
        sdk.list_jobs()

    with pytest.raises(RuntimeError, match="use the async methods"):
        sdk.loop.run(inside())


def test_forks_followed_in_parallel_into_one_folder(sdk_env: dict[str, str], project: Path) -> None:
    """The reference's pattern, in threads: every fork's outputs come back into the current folder."""
    sdk = SDK(log_level="ERROR")
    base = sdk.run(config="config.yaml", working_dir=project)
    rates = ("0.1", "0.2", "0.3", "0.4", "0.6", "0.7")
    forks = [sdk.fork_job(base.id, args={"LR": lr}) for lr in rates]
    with ThreadPoolExecutor(max_workers=len(forks)) as pool:
        list(pool.map(lambda job: job.wait(output_dir=project), forks))
    assert str(json.loads((project / "result.json").read_text())["lr"]) in rates
    assert not list(project.glob("*.download"))


def test_the_reference_calls_unchanged(
    sdk_env: dict[str, str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a user of `from datasphere import SDK` writes, run from the project folder as they would."""
    monkeypatch.chdir(project)
    base = SDK().run(config="config.yaml")
    (project / "other.txt").write_text("1.0 1.0\n")

    sdk = SDK(oauth_token=None, profile=None, log_level="INFO", log_config=None, log_dir=None)
    job = sdk.fork_job(
        base.id,
        args={"LR": "0.25"},
        vars={"DATA": "other.txt"},
        env_vars={"EXTRA": "1"},
        name="reference-style",
        desc="a fork as the reference SDK makes it",
        cloud_instance_types=["c1.4"],
    )
    job.wait()
    assert isinstance(job.id, str) and isinstance(job.operation_id, str) and job.done is True
    assert json.loads((project / "result.json").read_text()) == {"lr": 0.25, "loss": 2 * 0.75**2}

    fetched = sdk.get_job(job.id)
    assert fetched.done and fetched.job is not None and fetched.job.name == "reference-style"
    sdk.download_job_files(job.id, with_logs=True, with_diagnostics=False, output_dir="downloaded")
    assert json.loads((project / "downloaded" / "result.json").read_text())["lr"] == 0.25
    assert len(list((project / "downloaded").rglob("*"))) > 1, "with_logs=True brings the job's logs too"


def test_log_dir_receives_the_core_log_with_secrets_masked(sdk_env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    ours = logging.getLogger("dsjobs_lsp")
    level = ours.level
    sdk = SDK(log_dir=str(folder))
    try:
        assert sdk.logs_file_path == str(folder)
        logging.getLogger("dsjobs_lsp.sdk.test").info("token y0_AgAAAAB0ZXN0b2F1dGh0b2tlbi1zZWNyZXQ here")
        for handler in ours.handlers:
            handler.flush()
        text = (folder / "dsjobs.log").read_text()
        assert "token *** here" in text and "y0_Ag" not in text
    finally:
        for handler in [h for h in ours.handlers if isinstance(h, logging.FileHandler)]:
            ours.removeHandler(handler)
            handler.close()
        ours.setLevel(level)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ValueError, match="log directory is a file"):
        SDK(log_dir=str(tmp_path / "a-file"))


def test_an_sdk_made_before_a_fork_works_in_the_child(sdk_env: dict[str, str], project: Path) -> None:
    """Airflow's pre-forking workers: the SDK object comes from the parent, its loop thread does not."""
    sdk = SDK(log_level="ERROR")
    before = {record.id for record in sdk.list_jobs()}
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_run_in_child, args=(sdk, project))
    child.start()
    child.join(120)
    assert child.exitcode == 0
    assert len({record.id for record in sdk.list_jobs()} - before) == 1, "the child's job, seen by the parent"


def _run_in_child(sdk: SDK, project: Path) -> None:
    job = sdk.run(config="config.yaml", working_dir=project)
    sys.exit(0 if job.done else 1)
