"""`SDK`: the reference's `datasphere.SDK` (same arguments, same meanings) on dsjobs's engine, plus creating
jobs from Python, listing, cancelling, attaching and async twins of every call.

Every call runs the core (`JobRunner`: the CLI's and the editor's pipeline, launch history included) on the
SDK's private event loop, so the synchronous methods work inside a Jupyter kernel and from many threads at
once. Each is the blocking twin (`loop.blocking`) of an async method (`run` of `arun`, `fork_job` of
`afork_job`, ...), which code running its own event loop awaits.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, TypeVar

from dsjobs_lsp.backends.endpoints import BackendKind
from dsjobs_lsp.core.jobs.fork import ForkOverrides
from dsjobs_lsp.core.jobs.models import JobRecord
from dsjobs_lsp.core.jobs.request import RunOutcome, RunRequest
from dsjobs_lsp.core.jobs.runner import JobRunner
from dsjobs_lsp.core.settings import Settings, load_settings
from dsjobs_lsp.sdk.errors import JobFailedError
from dsjobs_lsp.sdk.job import Job
from dsjobs_lsp.sdk.loop import PrivateLoop, blocking, shared_loop
from dsjobs_lsp.sdk.options import (
    DockerOption,
    EnvOption,
    PathLike,
    PathsOption,
    RunSpec,
    absolute,
    fork_overrides,
)
from dsjobs_lsp.sdk.output import configure_logging, console_sink, level_number

T = TypeVar("T")


class SDK:
    """DataSphere Jobs from Python: `from dsjobs_lsp import SDK` where the reference has
    `from datasphere import SDK`.

    The backend is chosen as the `dsjobs` CLI chooses it: `backend` here, else `$DSJOBS_BACKEND`, else
    `backend` in `~/.config/dsjobs/config.yaml`, else `local` (the embedded backend, started if needed).
    The cloud authenticates with, in order: `$YC_IAM_TOKEN`, `service_account_key_file` (or
    `$YC_SA_KEY_FILE`; the JSON `yc iam key create` writes), `oauth_token` (or `$YC_TOKEN`), the VM
    metadata service, the `yc` CLI (with `profile`).

    `log_level` filters the narrative printed while following a job ("ERROR", "WARNING", "INFO", "DEBUG");
    `log_config` (a YAML logging config with `$LOG_LEVEL`/`$LOG_FILE_PATH`) and `log_dir` (the core's log
    records go to `<log_dir>/dsjobs.log`) are the reference's options. Safe to share between threads.
    """

    def __init__(
        self,
        oauth_token: str | None = None,
        profile: str | None = None,
        log_level: str = "INFO",
        log_config: TextIO | None = None,
        log_dir: str | None = None,
        _user_agent: str | None = None,
        *,
        service_account_key_file: PathLike | None = None,
        backend: BackendKind | None = None,
        project_id: str | None = None,
        local_data_dir: PathLike | None = None,
        state_dir: PathLike | None = None,
        yc_path: PathLike | None = None,
    ) -> None:
        self._level = level_number(log_level)
        self.logs_file_path = configure_logging(log_level, log_config, log_dir)
        self.settings: Settings = load_settings(
            backend=backend,
            project_id=project_id,
            local_data_dir=local_data_dir,
            state_dir=state_dir,
            yc_path=yc_path,
            yc_profile=profile,
            oauth_token=oauth_token,
            service_account_key_file=service_account_key_file,
        )
        self._runner = JobRunner(self.settings)

    @property
    def loop(self) -> PrivateLoop:
        """The private event loop the SDK's work runs on (shared by every `SDK` of the process; a forked
        child, e.g. an Airflow task process, gets its own)."""
        return shared_loop()

    def __repr__(self) -> str:
        return f"SDK(backend={self.settings.backend!r}, project_id={self.settings.project_id!r})"

    def __enter__(self) -> SDK:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the SDK's caches (it can still be used afterwards; they reopen)."""
        self._runner.hasher.close()

    # -- the reference's calls -------------------------------------------------------------------------

    async def afork_job(
        self,
        source_job_id: str,
        args: Mapping[str, str] | None = None,
        vars: Mapping[str, str] | None = None,
        env_vars: Mapping[str, str] | None = None,
        name: str | None = None,
        desc: str | None = None,
        docker: DockerOption | None = None,
        working_storage: Mapping[str, Any] | None = None,
        cloud_instance_types: Sequence[str] | None = None,
    ) -> Job:
        """Start a copy of a job with some arguments, paths, env vars or resources replaced (`fork_job`, or
        awaited: `afork_job`); `wait()` on the returned job follows it.

        `args`: new values of the source's `args` (`{"LR": "0.1"}`); `vars`: new paths of its input/output
        variables (new inputs are uploaded from the current folder); `env_vars`: replace the source's env
        vars; `docker`: an image resource id or `{"image": url, "username": ..., "password":
        {"secret-id": ...}}`; `working_storage`: `{"type": "SSD", "size": "150GB"}`;
        `cloud_instance_types`: e.g. `["g1.1"]`. Names not in the source job are a `ValueError`.
        """
        overrides = fork_overrides(
            args=args,
            vars=vars,
            env_vars=env_vars,
            name=name,
            desc=desc,
            docker=docker,
            working_storage=working_storage,
            cloud_instance_types=cloud_instance_types,
        )
        return await self._on_loop(self._fork(source_job_id, overrides, Path.cwd()))

    fork_job = blocking(afork_job, "fork_job")

    async def aget_job(self, id: str) -> Job:
        """The job `id` as the backend sees it now (`get_job`, or awaited: `aget_job`); `job.job` holds the
        backend's answer."""
        return await self._on_loop(self._get_job(id))

    get_job = blocking(aget_job, "get_job")

    async def adownload_job_files(
        self,
        id: str,
        with_logs: bool = False,
        with_diagnostics: bool = False,
        output_dir: PathLike | None = None,
    ) -> list[Path]:
        """Download a finished job's outputs (and its logs, diagnostics) into `output_dir` (default: the
        current folder); returns the files written (`download_job_files`, or awaited:
        `adownload_job_files`). A job still running gets a warning and nothing."""
        target = absolute(output_dir) or Path.cwd()
        return await self._on_loop(self._download(id, with_logs, with_diagnostics, target))

    download_job_files = blocking(adownload_job_files, "download_job_files")

    def connect_to_spark(self) -> Any:
        """The reference's Spark (Data Proc) connection, for code running inside a cloud job: not available
        here (neither backend provides a Data Proc cluster); raises `NotImplementedError`."""
        raise NotImplementedError(
            "connect_to_spark() needs a DataSphere job attached to a Data Proc cluster; use the reference "
            "package (`from datasphere import SDK`) inside such a job"
        )

    # -- beyond the reference ----------------------------------------------------------------------------

    async def arun(
        self,
        /,
        config: PathLike | None = None,
        *,
        program: PathLike | None = None,
        args: Sequence[str] | None = None,
        inputs: PathsOption | None = None,
        outputs: PathsOption | None = None,
        env_vars: EnvOption | None = None,
        working_dir: PathLike | None = None,
        project_id: str | None = None,
        interpreter: PathLike | None = None,
        wait: bool = True,
        **form: Any,
    ) -> Job:
        """Create and execute a job, from a config.yaml or from the fields of the editor's job form (`run`,
        or awaited: `arun`).

        `config="config.yaml"`: the reference's `execute -c` (paths relative to `working_dir`, default the
        current folder). Or `program="train.py"` with `args=["--epochs", "3"]`, `inputs=["data.csv=DATA"]`
        (or `{"data.csv": "DATA"}`), `outputs`, `env_vars={"SEED": "1"}` and any other form field by name
        (`instance_type="g1.1"`, `requirements_file=...`, `job_name=...`; see `LaunchConfig`); paths are
        relative to `working_dir`, default the program's folder. `interpreter`: the Python whose packages
        the job needs (default: the folder's `.venv`, `$VIRTUAL_ENV`, else this one).

        With `wait=True` (the default) it prints the log, downloads outputs into `working_dir` and raises
        `JobFailedError` unless the job succeeded; with `wait=False` it returns once the job executes.
        """
        spec = RunSpec(
            config, program, args, inputs, outputs, env_vars, working_dir, project_id, interpreter, wait, form
        )
        return await self._on_loop(self._run(spec.request()))

    run = blocking(arun, "run")

    async def alist_jobs(self, project_id: str | None = None, limit: int = 200) -> list[JobRecord]:
        """Jobs of the project (default: the configured one), newest first: launch history merged with
        the backend's list (`list_jobs`, or awaited: `alist_jobs`)."""
        return await self._on_loop(self._runner.list(project_id, limit))

    list_jobs = blocking(alist_jobs, "list_jobs")

    async def acancel(self, id: str, graceful: bool = False) -> None:
        """Ask the backend to stop job `id` (`graceful`: SIGTERM and the job's grace period first) (`cancel`,
        or awaited: `acancel`)."""
        await self._on_loop(self._runner.cancel(id, graceful))

    cancel = blocking(acancel, "cancel")

    async def aattach(self, id: str, output_dir: PathLike | None = None) -> Job:
        """Follow a running job from where this machine last left its log (never re-executing it), download
        its outputs (into `output_dir`, default the folder it was started from) and return it; raises
        `JobFailedError` unless it succeeded (`attach`, or awaited: `aattach`)."""
        return await self._on_loop(self._attach(id, absolute(output_dir)))

    attach = blocking(aattach, "attach")

    # -- running on the private loop ---------------------------------------------------------------------

    async def _on_loop(self, work: Coroutine[Any, Any, T]) -> T:
        return await self.loop.run_async(work)

    async def _run(self, request: RunRequest) -> Job:
        outcome = await self._runner.run(request, console_sink(self._level))
        if request.wait:
            _raise_unless_succeeded(outcome)
        return self._job_of(outcome)

    async def _fork(self, source_job_id: str, overrides: ForkOverrides, working_dir: Path) -> Job:
        outcome = await self._runner.fork(
            source_job_id, overrides, console_sink(self._level), working_dir=working_dir, wait=False
        )
        return self._job_of(outcome)

    async def _get_job(self, job_id: str) -> Job:
        job = await self._runner.get(job_id)
        return Job(self, job_id, job=job, record=await self._runner.history.get(job_id))

    async def _download(
        self, job_id: str, with_logs: bool, with_diagnostics: bool, output_dir: Path
    ) -> list[Path]:
        return await self._runner.download_files(
            job_id,
            output_dir,
            console_sink(self._level),
            with_logs=with_logs,
            with_diagnostics=with_diagnostics,
        )

    async def _follow(self, job_id: str, output_dir: Path | None) -> RunOutcome:
        outcome = await self._runner.attach(job_id, console_sink(self._level), output_dir=output_dir)
        _raise_unless_succeeded(outcome)
        return outcome

    async def _attach(self, job_id: str, output_dir: Path | None) -> Job:
        outcome = await self._follow(job_id, output_dir)
        job = self._job_of(outcome)
        job.outputs = list(outcome.downloaded)
        return job

    def _job_of(self, outcome: RunOutcome) -> Job:
        assert outcome.job_id is not None
        return Job(self, outcome.job_id, operation_id=outcome.operation_id, record=outcome.record)


def _raise_unless_succeeded(outcome: RunOutcome) -> None:
    if outcome.succeeded:
        return
    details = outcome.record.status_details if outcome.record else ""
    raise JobFailedError(outcome.job_id or "?", outcome.status, outcome.exit_code, details)
