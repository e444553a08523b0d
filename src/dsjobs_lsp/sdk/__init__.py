"""The Python SDK: `SDK` (a drop-in for the reference's `datasphere.SDK`), `Job`, `JobFailedError`.

Example (`docs/sdk.md` has more)::

    from dsjobs_lsp import SDK

    sdk = SDK()
    job = sdk.fork_job("<job id>", args={"LR": "0.01"})
    job.wait()
"""

from __future__ import annotations

from dsjobs_lsp.core.jobs.models import JobRecord, JobStatus
from dsjobs_lsp.sdk.client import SDK
from dsjobs_lsp.sdk.errors import JobFailedError
from dsjobs_lsp.sdk.job import Job

__all__ = ["SDK", "Job", "JobFailedError", "JobRecord", "JobStatus"]
