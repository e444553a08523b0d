"""How failures reach the client: a JSON-RPC error with a short message and `data.kind` (docs/protocol.md §6).

`to_command_error` maps the core's exceptions by kind; anything unexpected becomes `internal` with a generic
message (its details go to the server log, redacted, never into the response).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal

from pygls.exceptions import JsonRpcException

from dsjobs_lsp.server.protocol import FieldError, Position, Range

ErrorKind = Literal["invalidParams", "config", "auth", "backend", "notFound", "io", "internal"]

ERROR_CODES: dict[ErrorKind, int] = {
    "invalidParams": -32602,
    "config": -32001,
    "auth": -32002,
    "backend": -32003,
    "notFound": -32004,
    "io": -32005,
    "internal": -32006,
}

_GRPC_NOT_FOUND = "NOT_FOUND"
_GRPC_AUTH = ("UNAUTHENTICATED", "PERMISSION_DENIED")

log = logging.getLogger("dsjobs_lsp.server")


class CommandError(JsonRpcException):
    """A command failed in a way the user should read; `kind` and `errors` travel in `data`."""

    def __init__(self, kind: ErrorKind, message: str, errors: list[FieldError] | None = None) -> None:
        from dsjobs_lsp.core.auth.redaction import redact  # lazy: only failures pay for the import

        data: dict[str, Any] = {"kind": kind}
        if errors:
            data["errors"] = [error.wire() for error in errors]
        super().__init__(message=redact(message), code=ERROR_CODES[kind], data=data)
        self.kind: ErrorKind = kind
        self.errors = errors or []


def to_command_error(exc: BaseException) -> CommandError:
    """The user-facing form of any exception raised while serving a command."""
    if isinstance(exc, CommandError):
        return exc
    name = type(exc).__name__
    if name == "ConfigError":
        return CommandError("config", str(exc), field_errors_of(exc))
    if name in ("SettingsError", "LimitError", "LaunchJsonError", "JsoncError", "BackendConfigError"):
        return CommandError("config", str(exc))
    if name in ("PythonEnvError", "RequirementsError"):  # env.python: the message names the file or key
        return CommandError("config", str(exc))
    if name in ("AuthError", "TokenError"):
        return CommandError("auth", str(exc))
    grpc_error = _grpc_error(exc)
    if grpc_error is not None:
        return grpc_error
    if isinstance(exc, FileNotFoundError):
        return CommandError("notFound", f"file not found: {exc.filename or exc}")
    if isinstance(exc, OSError):
        return CommandError("io", f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    if name == "BackendError" and getattr(getattr(exc, "code", None), "name", "") == _GRPC_NOT_FOUND:
        return CommandError("notFound", str(exc))
    if name.endswith(("BackendError", "ClientError", "JobError")) or name in (
        "OperationFailed",
        "TransferError",
    ):
        return CommandError("backend", str(exc))
    if name == "ConnectError" or name.endswith("TransportError"):
        return CommandError("backend", f"cannot reach the backend: {exc}")
    if isinstance(exc, LookupError) and name in ("JobNotFound", "UnknownJobError"):
        return CommandError("notFound", str(exc))
    log.error("unexpected failure", exc_info=exc)
    return CommandError("internal", f"internal error ({name}); see the DataSphere Jobs Toolkit log")


def field_errors_of(exc: BaseException) -> list[FieldError]:
    """The issues of a core `ConfigError` as protocol field errors."""
    issues = getattr(exc, "issues", None) or []
    source = getattr(exc, "source", None)
    file = str(source) if source and "/" in str(source) else None
    return [issue_to_field_error(issue, file=file) for issue in issues]


def issue_to_field_error(issue: Any, *, file: str | None = None) -> FieldError:
    """A core `ConfigIssue` as a protocol `FieldError` (with a range only when it points into a file)."""
    error = FieldError(field=issue.key, message=issue.message, severity=issue.severity, file=file)
    if file is not None:
        error.range = _range(issue)
    return error


def _range(issue: Any) -> Range:
    return Range(
        start=Position(line=issue.line, character=issue.column),
        end=Position(line=issue.end_line, character=issue.end_column),
    )


def _grpc_error(exc: BaseException) -> CommandError | None:
    grpc = sys.modules.get("grpc")  # only ever set once the core talked gRPC; never imported here
    if grpc is None or not isinstance(exc, grpc.RpcError):
        return None
    code = exc.code() if callable(getattr(exc, "code", None)) else None
    code_name = getattr(code, "name", str(code))
    details = exc.details() if callable(getattr(exc, "details", None)) else ""
    if code_name == _GRPC_NOT_FOUND:
        return CommandError("notFound", f"not found: {details}")
    if code_name in _GRPC_AUTH:
        return CommandError("auth", f"the backend refused the credentials ({code_name}): {details}")
    return CommandError("backend", f"backend error {code_name}: {details}")
