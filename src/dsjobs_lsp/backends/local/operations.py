"""Building ``Operation`` messages and the errors the API answers with."""

from __future__ import annotations

import secrets
import string

import grpc
from google.protobuf import any_pb2, timestamp_pb2
from google.protobuf.message import Message
from google.rpc import status_pb2
from yandex.cloud.operation import operation_pb2

_ID_ALPHABET = string.digits + string.ascii_lowercase


class ApiError(Exception):
    """An RPC failure with its gRPC status code and a message for the user."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def new_id(prefix: str) -> str:
    """A 20-character id of ``[0-9a-z]`` (the DataSphere format), starting with ``prefix``."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20 - len(prefix)))


def pack(message: Message) -> any_pb2.Any:
    """``message`` packed into ``google.protobuf.Any``."""
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def now_timestamp() -> timestamp_pb2.Timestamp:
    """The current time as a protobuf Timestamp."""
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


def new_operation(
    description: str, metadata: Message, *, response: Message | None = None
) -> operation_pb2.Operation:
    """An operation, already done when ``response`` is given."""
    operation = operation_pb2.Operation(
        id=new_id("lo"),
        description=description,
        created_at=now_timestamp(),
        created_by="local",
        modified_at=now_timestamp(),
        done=response is not None,
        metadata=pack(metadata),
    )
    if response is not None:
        operation.response.CopyFrom(pack(response))
    return operation


def finish_operation(
    operation: operation_pb2.Operation,
    *,
    response: Message | None = None,
    error: tuple[grpc.StatusCode, str] | None = None,
) -> None:
    """Mark ``operation`` done with its response and/or error."""
    operation.done = True
    operation.modified_at.CopyFrom(now_timestamp())
    if response is not None:
        operation.response.CopyFrom(pack(response))
    if error is not None:
        code, message = error
        operation.error.CopyFrom(status_pb2.Status(code=code.value[0], message=message))
