"""Keep secrets out of text: every token the process has seen, anything shaped like a Yandex token, and the
queries of URLs (where presigned URLs carry their signatures)."""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_MIN_SECRET_LENGTH = 8
TOKEN_PATTERN = re.compile(
    r"\bt1\.[A-Za-z0-9_\-.]{16,}"  # IAM tokens
    r"|\by[0-3]_[A-Za-z0-9_\-]{16,}"  # OAuth tokens
    r"|\bAQAAAA[A-Za-z0-9_\-]{16,}"  # legacy OAuth tokens
    r"|(?<=Bearer )[^\s'\",)]{8,}",  # whatever follows a bearer scheme
)

URL_QUERY_PATTERN = re.compile(r"(\bhttps?://[^\s?#'\"<>]+)\?[^\s#'\"<>]+")
"""A URL's query: presigned URLs carry their signature (and expiry, credentials) there."""

_known: set[str] = set()
_known_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Remember ``secret`` so that ``redact`` masks it wherever it appears (short strings are ignored)."""
    if len(secret) >= _MIN_SECRET_LENGTH:
        with _known_lock:
            _known.add(secret)


def redact(text: str) -> str:
    """``text`` with every known token, every token-shaped string and every URL's query (presigned URLs'
    signatures) replaced by ``***``."""
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = URL_QUERY_PATTERN.sub(rf"\1?{MASK}", text)
    return TOKEN_PATTERN.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks tokens in the message, its arguments and the formatted traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place with tokens masked; never drops a record."""
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None
        return True


def install_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add a ``RedactingFilter`` to every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    redacting = RedactingFilter()
    for handler in target.handlers:
        handler.addFilter(redacting)
    return redacting
