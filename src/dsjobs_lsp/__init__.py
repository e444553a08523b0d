"""dsjobs: DataSphere Jobs toolkit — language server, CLI, an embedded local backend and a Python SDK.

`from dsjobs_lsp import SDK` loads the SDK on first use only, so `import dsjobs_lsp` stays cheap (the CLI's
start-up time depends on it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dsjobs_lsp.sdk import SDK, Job, JobFailedError

__version__ = "0.1.0"

_SDK_NAMES = ("SDK", "Job", "JobFailedError")


def __getattr__(name: str) -> Any:
    if name in _SDK_NAMES:
        from dsjobs_lsp import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SDK", "Job", "JobFailedError", "__version__"]
