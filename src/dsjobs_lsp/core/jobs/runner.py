"""The run pipeline, shared by the CLI and the language server.

run: config → Python environment → packaging → Create (the job is in history from this moment) → upload what
the server lacks → Execute → logs + status → outputs → the program's exit code. The narrative goes out as
`ConsoleLine`s worded like the reference CLI. Cancelling the task that runs `run`/`attach` only stops
*following* the job; the job itself stops only through `cancel`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import import_module
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from yandex.cloud.datasphere.v2.jobs import jobs_pb2, project_job_service_pb2
from yandex.cloud.operation import operation_pb2

from dsjobs_lsp.core.client import loopback
from dsjobs_lsp.core.client.errors import TransferError
from dsjobs_lsp.core.client.targets import UploadTarget
from dsjobs_lsp.core.jobs.backend import BackendSession, BackendTarget, open_session, resolve_backend
from dsjobs_lsp.core.jobs.destinations import download_groups
from dsjobs_lsp.core.jobs.events import ConsoleLine, EventSink, JobChanged, Progress
from dsjobs_lsp.core.jobs.follow import JobFollower
from dsjobs_lsp.core.jobs.history import History, Records
from dsjobs_lsp.core.jobs.models import JobRecord, JobStatus
from dsjobs_lsp.core.jobs.records import now, record_from_job, refresh
from dsjobs_lsp.core.jobs.request import RunOutcome, RunRequest
from dsjobs_lsp.core.packaging import FileHasher, PreparedFile, humanize_bytes_size
from dsjobs_lsp.core.settings import Settings

if TYPE_CHECKING:  # loaded by the commands that use them: listing jobs never zips, uploads or parses configs
    from dsjobs_lsp.core.jobs.fork import ForkOverrides
    from dsjobs_lsp.core.jobs.prepare import PreparedJob, ResolvedConfig

Paths = list[Path]


class JobRunner:
    """Runs, follows and manages jobs on the configured backend, keeping the launch history."""

    def __init__(
        self, settings: Settings, *, target: BackendTarget | None = None, history: History | None = None
    ) -> None:
        self.settings = settings
        self.history = history or History(settings.history_db)
        self.hasher = FileHasher(settings.cache_dir / "hashes.sqlite3")
        self._target = target
        self._target_lock = asyncio.Lock()

    async def target(self) -> BackendTarget:
        """The backend (located, and for local started, on first use)."""
        async with self._target_lock:
            if self._target is None:
                self._target = await resolve_backend(self.settings)
            return self._target

    @asynccontextmanager
    async def session(self) -> AsyncIterator[BackendSession]:
        """A connected client of the backend."""
        async with open_session(await self.target()) as session:
            yield session

    # -- run ----------------------------------------------------------------------------------------------

    async def run(self, request: RunRequest, sink: EventSink) -> RunOutcome:
        """Start a job and (unless `request.wait` is False) follow it to its end."""
        from dsjobs_lsp.core.jobs.prepare import resolve_config

        resolved = await resolve_config(request)
        for warning in resolved.warnings:
            sink(ConsoleLine(text=warning, level="warning"))
        target = await self.target()
        project_id = target.project(request.project_id)
        async with open_session(target) as session:
            prepared = await self._prepare(session, request, resolved, sink)
            record = await self._create(session, prepared, request, project_id, sink)
            operation = await session.client.execute(record.id)
            record = await self._save(record.model_copy(update={"operation_id": operation.id}), sink)
            if not request.wait:
                return RunOutcome(
                    job_id=record.id, operation_id=operation.id, status=record.status, record=record
                )
            sink(ConsoleLine(job_id=record.id, text="executing job ..."))
            record = await self._announce_link(session, record, sink)
            return await self._follow(session, record, operation, request.working_dir, sink)

    async def _prepare(
        self, session: BackendSession, request: RunRequest, resolved: ResolvedConfig, sink: EventSink
    ) -> PreparedJob:
        """The job's files packed while the session connects and gets its token (in the cloud: TLS handshakes,
        an IAM exchange); a token that cannot be had fails the run after the packing, as at Create."""
        from dsjobs_lsp.core.jobs.prepare import deflates_archives, prepare_job

        deflate = deflates_archives(session.target.endpoints)
        session.client.connect()
        token = asyncio.ensure_future(session.target.token())
        try:
            prepared = await prepare_job(
                request,
                resolved,
                hasher=self.hasher,
                cache_dir=self.settings.cache_dir / "archives",
                sink=sink,
                deflate=deflate,
            )
        except BaseException:
            _abandon(token)
            raise
        await token
        return prepared

    async def _create(
        self,
        session: BackendSession,
        prepared: PreparedJob,
        request: RunRequest,
        project_id: str,
        sink: EventSink,
    ) -> JobRecord:
        config = prepared.resolved.config
        # httpx serves uploads across a network; this machine's store is sent files without it (loopback)
        remote = not loopback.is_local_store(session.target.endpoints)
        loading = _load_transfers() if prepared.files and remote else None
        sink(ConsoleLine(text="creating job ..."))
        try:
            created = await session.client.create(
                project_id,
                prepared.params,
                config=prepared.resolved.text,
                name=config.name or "",
                desc=config.desc or "",
            )
        finally:
            if loading is not None:
                await loading
        record = JobRecord(
            id=created.job_id,
            backend=session.target.kind,
            project_id=project_id,
            name=config.name,
            desc=config.desc,
            created_at=now(),
            working_dir=str(request.working_dir),
            entry_file=str(request.entry_file) if request.entry_file else None,
            config_path=str(prepared.resolved.path) if prepared.resolved.path else None,
        )
        saving = asyncio.ensure_future(self._save(record, sink))  # written while the files go up
        try:
            await self._upload(created.upload_files, prepared.files, record.id, sink)
        finally:
            record = await saving
        sink(ConsoleLine(job_id=record.id, text=f"created job `{record.id}`"))
        return record

    async def _upload(
        self,
        files: Sequence[jobs_pb2.StorageFile],
        prepared: Sequence[PreparedFile],
        job_id: str,
        sink: EventSink,
    ) -> None:
        wanted = [f for f in files if f.url]
        if not wanted:
            sink(ConsoleLine(job_id=job_id, text="no files to upload"))
            return
        total = sum(f.file.size_bytes for f in wanted)
        sink(
            ConsoleLine(
                job_id=job_id, text=f"uploading {len(wanted)} files ({humanize_bytes_size(total)}) ..."
            )
        )
        by_sha256 = {f.sha256: f.local_path for f in prepared}
        targets = [self._upload_target(f, by_sha256) for f in wanted]
        await loopback.upload_files(
            targets,
            on_progress=lambda done, all_: sink(
                Progress(job_id=job_id, stage="upload", done=done, total=all_)
            ),
        )
        sink(Progress(job_id=job_id, stage="upload", done=total, total=total, finished=True))
        sink(ConsoleLine(job_id=job_id, text="files are uploaded"))

    @staticmethod
    def _upload_target(file: jobs_pb2.StorageFile, by_sha256: dict[str, Path]) -> UploadTarget:
        local = by_sha256.get(file.file.sha256)
        if local is None:
            raise _unknown_file_error(file)
        return UploadTarget(
            url=file.url,
            local_path=local,
            size=file.file.size_bytes,
            sha256=file.file.sha256,
            display_path=file.file.desc.path,
        )

    async def _announce_link(self, session: BackendSession, record: JobRecord, sink: EventSink) -> JobRecord:
        if record.link is None:
            link = await session.client.job_link(await session.client.get(record.id))
            if link is None:
                return record
            record = await self._save(record.model_copy(update={"link": link}), None)
        sink(ConsoleLine(job_id=record.id, text=f"job link: {record.link}"))
        return record

    async def _follow(
        self,
        session: BackendSession,
        record: JobRecord,
        operation: operation_pb2.Operation | None,
        output_dir: Path,
        sink: EventSink,
        *,
        only_missing_outputs: bool = False,
    ) -> RunOutcome:
        follower = JobFollower(session.client, self.history, sink, record)
        response = await follower.follow(operation)
        record = follower.record
        if operation is None:
            record = _exit_code_reported(record, sink)
        downloaded = await self._download_outputs(
            session, record, response, output_dir, sink, only_missing=only_missing_outputs
        )
        record = await self._save(record.model_copy(update={"outputs_downloaded": True}), None)
        self._report_end(record, sink)
        sink(JobChanged(job=record))
        return RunOutcome(
            job_id=record.id,
            operation_id=record.operation_id,
            status=record.status,
            exit_code=record.exit_code,
            record=record,
            downloaded=downloaded,
        )

    async def _download_outputs(
        self,
        session: BackendSession,
        record: JobRecord,
        response: project_job_service_pb2.ExecuteProjectJobResponse | None,
        output_dir: Path,
        sink: EventSink,
        *,
        only_missing: bool,
    ) -> list[Path]:
        if response is not None:
            for error in response.output_files_errors:
                name = error.output_file_desc.path or error.log_file_name
                sink(  # a warning: the job succeeded (exit code 0, as the reference), one output is missing
                    ConsoleLine(
                        job_id=record.id,
                        level="warning",
                        text=f"output {name} was not uploaded: {error.description or 'error'}",
                    )
                )
            files = list(response.output_files)
            for dataset in response.output_datasets:
                sink(ConsoleLine(job_id=record.id, text=created_dataset_line(dataset)))
        else:
            job = await session.client.get(record.id)
            files = await session.client.download_job_files(record.id, list(job.output_files))
        if only_missing:
            missing = [f for f in files if not _present(output_dir, f.file.desc.path)]
            if files and not missing:
                sink(ConsoleLine(job_id=record.id, text=f"outputs are already in {output_dir}"))
                return []
            files = missing
        return await self._download(files, output_dir, record.id, sink)

    async def _download(
        self, files: list[jobs_pb2.StorageFile], output_dir: Path, job_id: str, sink: EventSink
    ) -> list[Path]:
        if not files:
            sink(ConsoleLine(job_id=job_id, text="no files to download"))
            return []
        from dsjobs_lsp.core.client.transfer import (  # httpx: only when something is downloaded
            DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES,
            download_files,
            within_download_limit,
        )

        limit = humanize_bytes_size(DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES)
        chosen = within_download_limit(
            files,
            DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES,
            lambda path, _size: sink(
                ConsoleLine(
                    job_id=job_id,
                    text=f"file `{path}` will not be downloaded due to exceeding the total size limit of "
                    f"downloading files {limit}",
                )
            ),
        )
        if not chosen:
            sink(ConsoleLine(job_id=job_id, text="no files to download"))
            return []
        total = sum(f.file.size_bytes for f in chosen)
        sink(
            ConsoleLine(
                job_id=job_id, text=f"downloading {len(chosen)} files ({humanize_bytes_size(total)}) ..."
            )
        )
        paths: list[Path] = []
        for base, group in download_groups(chosen, output_dir).items():
            paths += await download_files(
                group,
                dest_dir=base,
                on_progress=lambda done, all_: sink(
                    Progress(job_id=job_id, stage="download", done=done, total=all_)
                ),
            )
        sink(Progress(job_id=job_id, stage="download", done=total, total=total, finished=True))
        sink(ConsoleLine(job_id=job_id, text="files are downloaded"))
        return paths

    @staticmethod
    def _report_end(record: JobRecord, sink: EventSink) -> None:
        if record.exit_code:
            sink(
                ConsoleLine(job_id=record.id, level="error", text=f"program returned code {record.exit_code}")
            )
        elif record.status == JobStatus.SUCCESS:
            sink(ConsoleLine(job_id=record.id, text="job completed successfully"))
        else:
            details = f": {record.status_details}" if record.status_details else ""
            sink(
                ConsoleLine(
                    job_id=record.id,
                    level="error",
                    text=f"job ended with status {record.status.value}{details}",
                )
            )

    async def _save(self, record: JobRecord, sink: EventSink | None) -> JobRecord:
        stored = await asyncio.shield(self.history.upsert(record))
        if sink is not None:
            sink(JobChanged(job=stored))
        return stored

    # -- fork ---------------------------------------------------------------------------------------------

    async def fork(
        self,
        source_job_id: str,
        overrides: ForkOverrides,
        sink: EventSink,
        *,
        working_dir: Path,
        wait: bool = True,
    ) -> RunOutcome:
        """Clone a job with overrides execute it and (unless `wait` is False) follow."""
        from dsjobs_lsp.core.jobs.fork import fork_parameters

        async with self.session() as session:
            source = await session.client.get(source_job_id)
            if source.HasField("data_expires_at"):
                if source.data_cleared:
                    raise ValueError("fork is unavailable - source job data is cleared")
                expires = source.data_expires_at.ToDatetime().isoformat()
                sink(
                    ConsoleLine(
                        level="warning",
                        text=(
                            f"source job data will expire at {expires}, use "
                            "`set-data-ttl` command to increase data TTL to required number of days "
                            "or to infinity"
                        ),
                    )
                )
            params, files = await fork_parameters(
                source.job_parameters,
                overrides,
                working_dir=working_dir,
                hasher=self.hasher,
                cache_dir=self.settings.cache_dir / "archives",
            )
            sink(ConsoleLine(text=f"cloning job `{source_job_id}` ..."))
            created = await session.client.clone(
                source_job_id, params, name=overrides.name or "", desc=overrides.desc or ""
            )
            record = await self._save(
                JobRecord(
                    id=created.job_id,
                    backend=session.target.kind,
                    project_id=source.project_id,
                    name=overrides.name or source.name or None,
                    desc=overrides.desc or source.desc or None,
                    created_at=now(),
                    working_dir=str(working_dir),
                ),
                sink,
            )
            await self._upload(created.upload_files, files, record.id, sink)
            sink(ConsoleLine(job_id=record.id, text=f"created job `{record.id}`"))
            operation = await session.client.execute(record.id)
            record = await self._save(record.model_copy(update={"operation_id": operation.id}), sink)
            if not wait:
                return RunOutcome(
                    job_id=record.id, operation_id=operation.id, status=record.status, record=record
                )
            sink(ConsoleLine(job_id=record.id, text="executing job ..."))
            record = await self._announce_link(session, record, sink)
            return await self._follow(session, record, operation, working_dir, sink)

    # -- attach, cancel, queries --------------------------------------------------------------------------

    async def attach(self, job_id: str, sink: EventSink, *, output_dir: Path | None = None) -> RunOutcome:
        """Follow a job (never executing it) and download its outputs.

        The log resumes at the recorded offset when this client's follow of the job was interrupted (Ctrl-C, a
        killed client, a closed editor); a job followed to its end before, or never followed, shows its whole
        log. Outputs go into `output_dir` when given (always), else into the job's working directory: all of
        them when this client never downloaded them, only the missing ones when it did.
        """
        async with self.session() as session:
            job = await session.client.get(job_id)
            known = await self.history.get(job_id)
            record = refresh(known, job) if known else record_from_job(job, backend=session.target.kind)
            record = await self._save(record, sink)
            if known is None or known.outputs_downloaded:
                record = record.model_copy(update={"log_offset": 0})
            sink(ConsoleLine(job_id=job_id, text=f"attaching to job `{job_id}` ..."))
            if record.status in (JobStatus.CREATING, JobStatus.UNSPECIFIED) and record.operation_id is None:
                sink(
                    ConsoleLine(
                        job_id=job_id,
                        level="warning",
                        text="the job was created but never executed; nothing to follow",
                    )
                )
                return RunOutcome(job_id=job_id, status=record.status, record=record)
            record = await self._announce_link(session, record, sink)
            operation = operation_pb2.Operation(id=record.operation_id) if record.operation_id else None
            target_dir = output_dir or Path(record.working_dir or ".")
            # Outputs this client already brought back are fetched again only where they went missing;
            # a job whose outputs it never downloaded (a fork, an interrupted follow) gets them all.
            already_downloaded = known is not None and known.outputs_downloaded
            return await self._follow(
                session,
                record,
                operation,
                target_dir,
                sink,
                only_missing_outputs=output_dir is None and already_downloaded,
            )

    async def cancel(self, job_id: str, graceful: bool = False) -> JobRecord | None:
        """Ask the backend to stop the job; returns its refreshed record (None if it is not in history)."""
        async with self.session() as session:
            await session.client.cancel(job_id, graceful=graceful, reason="cancelled by the user")
            return await self._refresh(session, job_id)

    async def get(self, job_id: str) -> jobs_pb2.Job:
        """The backend's view of the job (history is refreshed if the job is known)."""
        async with self.session() as session:
            job = await session.client.get(job_id)
            known = await self.history.get(job_id)
            if known is not None:
                await self.history.upsert(refresh(known, job))
            return job

    async def _refresh(self, session: BackendSession, job_id: str) -> JobRecord | None:
        known = await self.history.get(job_id)
        if known is None:
            return None
        return await self.history.upsert(refresh(known, await session.client.get(job_id)))

    async def list_remote(
        self,
        project_id: str | None = None,
        *,
        show: Callable[[list[jobs_pb2.Job]], None] | None = None,
        only_known: bool = False,
    ) -> list[jobs_pb2.Job]:
        """The backend's jobs of the project (merged into history on the way).

        `show` gets them on a worker thread while they are merged (the CLI prints them meanwhile).
        `only_known`: refresh the jobs the history has and add no others (the CLI's `project job list`:
        merging thousands of jobs nobody launched here would cost it a third of its time; the editor's
        history panel merges the whole list itself).
        """
        target = await self.target()
        project = target.project(project_id)
        async with open_session(target) as session:
            found = [job async for job in session.client.list_jobs(project)]
        remembered = found
        if only_known:
            known = await self.history.known(job.id for job in found)
            remembered = [job for job in found if job.id in known]
        merging = self.history.merge_remote(record_from_job(job, backend=target.kind) for job in remembered)
        if show is None:
            await merging
        else:
            await asyncio.gather(merging, asyncio.to_thread(show, found))
        return found

    async def list(self, project_id: str | None = None, limit: int = 200) -> Records:
        """History of this backend merged with the backend's List, newest first."""
        target = await self.target()
        project = project_id or target.default_project_id
        if project:
            await self.list_remote(project)
        records = await self.history.list(project, limit=limit)
        return [r for r in records if r.backend == target.kind]

    async def download_files(
        self,
        job_id: str,
        output_dir: Path,
        sink: EventSink,
        *,
        with_logs: bool = False,
        with_diagnostics: bool = False,
        flat: bool = False,
    ) -> Paths:
        """Download a finished job's outputs (and optionally logs / diagnostics) into `output_dir`.

        `flat`: every file lands directly in `output_dir` under its base name, as the reference's
        `download-files --output-dir D` writes `D/<basename>`; else at its path under `output_dir`."""
        async with self.session() as session:
            job = await session.client.get(job_id)
            status = JobStatus(jobs_pb2.JobStatus.Name(job.status))
            if not status.finished:
                sink(
                    ConsoleLine(
                        job_id=job_id,
                        level="warning",
                        text=f"job {job_id} is still running ({status.value}), nothing to download yet.",
                    )
                )
                return []
            if status != JobStatus.SUCCESS:
                sink(
                    ConsoleLine(
                        job_id=job_id,
                        level="warning",
                        text=f"job {job_id} was completed with error ({status.value}). "
                        "Not all files can be downloaded.",
                    )
                )
            wanted = list(job.output_files)
            wanted += list(job.log_files) if with_logs else []
            wanted += list(job.diagnostic_files) if with_diagnostics else []
            files = await session.client.download_job_files(job_id, wanted)
            if flat:
                files = [_under_base_name(file) for file in files]
            return await self._download(files, output_dir, job_id, sink)

    async def set_data_ttl(self, job_id: str, days: int | None) -> None:
        """Keep the job's data `days` days (None: forever, as the reference's `infinity`)."""
        async with self.session() as session:
            await session.client.set_data_ttl(job_id, days)

    async def delete(self, job_id: str) -> None:
        """Delete the job in the backend and forget it."""
        async with self.session() as session:
            await session.client.delete(job_id)
        await self.history.delete(job_id)


def _abandon(task: asyncio.Future[str]) -> None:
    """Cancel a task no one will await, its outcome read (no "exception was never retrieved" warning)."""
    task.cancel()
    task.add_done_callback(lambda done: done.cancelled() or done.exception())


def _load_transfers() -> asyncio.Future[object]:
    """Import the file transfers (httpx) on a worker thread while Create is in flight: a job with files is
    usually asked for some of them, and the import (tens of ms) then costs no time of its own."""
    return asyncio.ensure_future(asyncio.to_thread(import_module, "dsjobs_lsp.core.client.transfer"))


def _present(output_dir: Path, relative: str) -> bool:
    """Whether an output is already at its place under `output_dir` (a bad path counts as missing)."""
    from dsjobs_lsp.core.client.transfer import safe_destination

    try:
        return safe_destination(output_dir, relative).exists()
    except TransferError:
        return False


EXIT_CODE_IN_DETAILS = re.compile(r"exit(?:ed)?(?: with)? code:? (-?\d+)", re.IGNORECASE)


def _exit_code_reported(record: JobRecord, sink: EventSink) -> JobRecord:
    """The exit code as the backend reports it when the Execute operation is not known here.

    SUCCESS means 0; otherwise the job's status details may name it ("the job exited with code 3"). When
    they do not, the user is told that the program's exit code is unknown.
    """
    if record.exit_code is not None or not record.status.finished:
        return record
    found = EXIT_CODE_IN_DETAILS.search(record.status_details or "")
    if record.status == JobStatus.SUCCESS or found:
        code = int(found.group(1)) if found else 0
        return record.model_copy(update={"exit_code": code})
    details = f" ({record.status_details})" if record.status_details else ""
    sink(
        ConsoleLine(
            job_id=record.id,
            level="warning",
            text=f"the program's exit code is unknown: this client did not execute the job and the backend "
            f"reports only its status, {record.status.value}{details}",
        )
    )
    return record


def created_dataset_line(dataset: jobs_pb2.OutputDataset) -> str:
    """The console line of an output dataset the job created (the reference's "Created datasets" entry)."""
    return f"created dataset {dataset.id} ({dataset.desc.name}) size: {dataset.desc.size_gb} Gb"


def _unknown_file_error(file: jobs_pb2.StorageFile) -> Exception:
    """The server asked for a file we did not offer (a protocol error on its side)."""
    return RuntimeError(
        f"the backend asked for a file we did not send: {file.file.desc.path} ({file.file.sha256})"
    )


def _under_base_name(file: jobs_pb2.StorageFile) -> jobs_pb2.StorageFile:
    """A copy of `file` whose path is its base name (`out/sub/res.txt` → `res.txt`)."""
    flat = jobs_pb2.StorageFile()
    flat.CopyFrom(file)
    flat.file.desc.path = PurePosixPath(file.file.desc.path.replace("\\", "/")).name
    return flat
