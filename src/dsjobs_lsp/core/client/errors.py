"""Errors the client raises: backend failures in user terms, failed operations, failed transfers."""

from __future__ import annotations

import grpc
import grpc.aio
from google.rpc import code_pb2
from yandex.cloud.operation import operation_pb2

from dsjobs_lsp.core.auth.redaction import redact


class BackendError(RuntimeError):
    """A call to the backend failed; ``code`` is the gRPC status, the message is meant for the user."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(redact(message))
        self.code = code


class OperationFailed(RuntimeError):
    """A long-running operation finished with an error (``code_name`` like ``FAILED_PRECONDITION``)."""

    def __init__(self, operation: operation_pb2.Operation) -> None:
        self.operation = operation
        self.code_name = code_name(operation.error.code)
        self.details = redact(operation.error.message)
        what = operation.description or "operation"
        super().__init__(f"{what} {operation.id} failed: {self.code_name}: {self.details}")


class TransferError(RuntimeError):
    """An upload or download failed, or a download would have escaped its folder."""


def code_name(code: int) -> str:
    """The ``google.rpc.Code`` name of a numeric status (``5`` → ``NOT_FOUND``)."""
    try:
        return str(code_pb2.Code.Name(code))
    except ValueError:
        return f"CODE_{code}"


def translate_rpc_error(
    error: grpc.aio.AioRpcError, *, subject: str, address: str, request: str | None = None
) -> BackendError:
    """A ``BackendError`` saying what went wrong with ``subject`` (e.g. "the job abc") in user terms.

    ``request`` names what was sent (e.g. "the new job"): a request the backend finds invalid is reported as
    that request's problem, not ``subject``'s (a bad output path is no problem of the project)."""
    code = error.code()
    details = redact(error.details() or "")
    invalid = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)
    if request is not None and code in invalid:
        message = f"{request} was rejected: {code.name}: {details}"
    elif code == grpc.StatusCode.NOT_FOUND:
        message = f"{subject} was not found" + (f" ({details})" if details else "")
    elif code == grpc.StatusCode.UNAUTHENTICATED:
        message = f"authentication failed: {details or 'the token was rejected'}"
    elif code == grpc.StatusCode.PERMISSION_DENIED:
        message = f"permission denied for {subject}: {details}"
    elif code == grpc.StatusCode.UNAVAILABLE:
        message = f"the backend at {address} is unavailable: {details}"
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        message = f"the backend at {address} did not answer in time ({subject})"
    else:
        message = f"{subject}: {code.name}: {details}"
    return BackendError(code, message)
