"""Tokens never reach log output."""

from __future__ import annotations

import io
import logging

import pytest

from dsjobs_lsp.core.auth import RedactingFilter, ensure_grpc_environment, redact, register_secret


def test_known_and_token_shaped_strings_are_masked() -> None:
    register_secret("plain-secret-without-shape")
    text = (
        "iam t1.9euelZqXkZKQ-abc_def.123456789 oauth y0_AgAAAAAAAAAAAAAAAAAAAAAA "
        "legacy AQAAAAAAAAAAAAAAAAAAAAAAAAA header 'Bearer opaque-local-token' "
        "known plain-secret-without-shape"
    )
    masked = redact(text)
    for leaked in ("t1.9eu", "y0_Ag", "AQAAAAAAAAA", "opaque-local-token", "plain-secret"):
        assert leaked not in masked
    assert masked.count("***") == 5
    assert redact("job abc123 finished, 3 files") == "job abc123 finished, 3 files"


def test_presigned_url_queries_are_masked() -> None:
    text = (
        'PUT http://127.0.0.1:1/blobs/ab?expires=1&signature=deadbeef "HTTP/1.1 200" '
        "for url 'https://storage.yandexcloud.net/b/k?X-Amz-Credential=c&X-Amz-Signature=s0'"
    )
    masked = redact(text)
    assert "deadbeef" not in masked and "X-Amz-Signature" not in masked and "X-Amz-Credential" not in masked
    assert (
        "http://127.0.0.1:1/blobs/ab?*** " in masked and "https://storage.yandexcloud.net/b/k?***'" in masked
    )


def test_filter_masks_messages_args_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("dsjobs-test-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("sending %s", "Bearer t1.abcdefghijklmnopqrstuvwxyz")
        try:
            raise RuntimeError("bad token y0_AgAAAAAAAAAAAAAAAAAAAAAAxyz")
        except RuntimeError:
            logger.exception("call failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "sending Bearer ***" in output and "RuntimeError: bad token ***" in output
    assert "t1.abc" not in output and "y0_Ag" not in output


def test_grpc_dns_resolver_defaults_to_native(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRPC_DNS_RESOLVER", raising=False)
    ensure_grpc_environment()
    import os

    assert os.environ["GRPC_DNS_RESOLVER"] == "native"
    monkeypatch.setenv("GRPC_DNS_RESOLVER", "ares")
    ensure_grpc_environment()
    assert os.environ["GRPC_DNS_RESOLVER"] == "ares"
