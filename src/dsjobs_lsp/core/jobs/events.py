"""Events the core emits while it runs or follows a job.

The CLI prints them; the language server turns them into notifications (`dsjobs/console`, `dsjobs/log`,
`dsjobs/jobChanged`, `$/progress`). Sinks are plain callables and must return quickly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from dsjobs_lsp.core.jobs.models import JobRecord

LogStream = Literal["stdout", "stderr", "system"]
ProgressStage = Literal["analysis", "packaging", "upload", "execute", "download"]


class ConsoleLine(BaseModel):
    """A line of the run's own narrative: `creating job ...`, `created job <id>`, `job link: ...`."""

    kind: Literal["console"] = "console"
    job_id: str | None = None
    text: str
    level: Literal["info", "warning", "error"] = "info"


class LogLines(BaseModel):
    """Lines the program wrote, in order, for one stream (`system` is the service's `.system.log`)."""

    kind: Literal["log"] = "log"
    job_id: str
    stream: LogStream
    lines: list[str]


class JobChanged(BaseModel):
    """The job's record changed (created, status, exit code, link...)."""

    kind: Literal["job"] = "job"
    job: JobRecord


class Progress(BaseModel):
    """Progress of a long step; `total` is None when unknown. Units are bytes for upload/download."""

    kind: Literal["progress"] = "progress"
    job_id: str | None = None
    stage: ProgressStage
    message: str = ""
    done: int = 0
    total: int | None = None
    finished: bool = False

    @property
    def percent(self) -> int | None:
        """Whole percent done, when the total is known."""
        if not self.total:
            return None
        return min(100, int(self.done * 100 / self.total))


Event = ConsoleLine | LogLines | JobChanged | Progress
EventSink = Callable[[Event], None]


def ignore_events(_event: Event) -> None:
    """An event sink that drops everything."""
