"""Where jobs go: the configured backend's endpoints, a token provider and the default project.

local → the embedded server of the data dir (started if needed), its own token, `LOCAL_PROJECT_ID` by default;
cloud → Yandex Cloud's public endpoints, IAM tokens (`YC_IAM_TOKEN`, service account key, OAuth, VM metadata,
`yc`), a project id required.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from dsjobs_lsp.backends.endpoints import BackendKind, Endpoints, TokenProvider
from dsjobs_lsp.core.client import JobsClient
from dsjobs_lsp.core.settings import Settings


class BackendConfigError(ValueError):
    """The backend cannot be used as configured (e.g. the cloud without a project id)."""


@dataclass(frozen=True)
class BackendTarget:
    """A reachable backend: its addresses, how to get a bearer token, and the project used by default."""

    kind: BackendKind
    endpoints: Endpoints
    token: TokenProvider
    default_project_id: str | None

    def project(self, explicit: str | None = None) -> str:
        """The project to use: the explicit one, else the default; a clear error when there is none."""
        project = explicit or self.default_project_id
        if not project:
            raise BackendConfigError(
                "no DataSphere project id: pass -p/--project-id, set DSJOBS_PROJECT or `project` in "
                "~/.config/dsjobs/config.yaml (the cloud backend has no default project)"
            )
        return project


@dataclass(frozen=True)
class BackendSession:
    """An open connection: the target plus a live `JobsClient`."""

    target: BackendTarget
    client: JobsClient

    @property
    def endpoints(self) -> Endpoints:
        """The backend's addresses."""
        return self.target.endpoints

    @property
    def project_id(self) -> str | None:
        """The default project id (None for the cloud without a configured project)."""
        return self.target.default_project_id


async def resolve_backend(settings: Settings) -> BackendTarget:
    """Locate (and for local, start if needed) the configured backend."""
    if settings.backend == "local":
        return await _local_target(settings)
    return _cloud_target(settings)


async def _local_target(settings: Settings) -> BackendTarget:
    from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, ensure_local_backend

    backend = await ensure_local_backend(settings.local_data_dir)
    token = backend.token

    async def provide() -> str:
        return token

    return BackendTarget("local", backend.endpoints, provide, settings.project_id or LOCAL_PROJECT_ID)


def _cloud_target(settings: Settings) -> BackendTarget:
    from dsjobs_lsp.backends.cloud import CLOUD_ENDPOINTS
    from dsjobs_lsp.core.auth import IamTokenSource, ensure_grpc_environment

    ensure_grpc_environment()
    source = IamTokenSource(
        settings.token_value(),
        str(settings.yc_path) if settings.yc_path else None,
        yc_profile=settings.yc_profile,
        service_account_key_file=settings.service_account_key_file,
    )
    return BackendTarget("cloud", CLOUD_ENDPOINTS, source, settings.project_id)


def static_target(
    endpoints: Endpoints, token: str, *, default_project_id: str | None = None
) -> BackendTarget:
    """A target for a server whose token is known (an in-process `LocalServer`, a test)."""

    async def provide() -> str:
        return token

    return BackendTarget(endpoints.kind, endpoints, provide, default_project_id)


@asynccontextmanager
async def open_session(target: BackendTarget) -> AsyncIterator[BackendSession]:
    """A `JobsClient` connected to `target`, closed on exit."""
    async with JobsClient(target.endpoints, target.token) as client:
        yield BackendSession(target, client)
