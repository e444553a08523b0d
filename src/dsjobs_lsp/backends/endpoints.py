"""The addresses of a DataSphere-compatible API and how to reach them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

BackendKind = Literal["local", "cloud"]

TokenProvider = Callable[[], Awaitable[str]]
"""Returns a bearer token (an IAM token for the cloud, the server token for the local backend)."""


@dataclass(frozen=True)
class Endpoints:
    """gRPC addresses (``host:port``) of one backend, and the base URL of its web UI for job links."""

    kind: BackendKind
    jobs: str
    operations: str
    projects: str
    secure: bool
    ui_base_url: str

    def job_link(self, community_id: str, project_id: str, job_id: str) -> str:
        """The browser link of a job, as the reference CLI prints it after `job link:`."""
        return f"{self.ui_base_url}/communities/{community_id}/projects/{project_id}/job/{job_id}"
