"""The server's own log goes to the client as `window/logMessage`, with tokens masked.

Only the `dsjobs_lsp` loggers are forwarded; pygls's chatty INFO log (it would echo every request, tokens
included) stays at WARNING and goes to stderr, also masked. Expected command failures (`CommandError`) are not
logged as tracebacks by pygls.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

from lsprotocol import types

from dsjobs_lsp.core.auth.redaction import RedactingFilter

if TYPE_CHECKING:
    from dsjobs_lsp.server.app import DsjobsServer

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


class DropCommandErrors(logging.Filter):
    """Drops pygls's traceback log of a `CommandError`: it is an answer, not a server fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for records carrying a `CommandError`."""
        from dsjobs_lsp.server.errors import CommandError

        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, CommandError)


class ClientLogHandler(logging.Handler):
    """Sends records as `window/logMessage` (from any thread, via the server's event loop)."""

    def __init__(self, server: DsjobsServer, level: int) -> None:
        super().__init__(level)
        self._server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Format and forward one record."""
        try:
            params = types.LogMessageParams(
                type=_LEVELS.get(record.levelno, types.MessageType.Log), message=self.format(record)
            )
            self._deliver(params)
        except Exception:
            self.handleError(record)

    def _deliver(self, params: types.LogMessageParams) -> None:
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
                self._loop_thread = threading.get_ident()
            except RuntimeError:
                return  # before the server runs: nobody to tell
        if threading.get_ident() == self._loop_thread:
            self._server.window_log_message(params)
        else:
            self._loop.call_soon_threadsafe(self._server.window_log_message, params)


def configure_logging(server: DsjobsServer, level: int = logging.INFO) -> None:
    """Route `dsjobs_lsp` logs to the client and everything else (WARNING+) to stderr, masked."""
    ours = logging.getLogger("dsjobs_lsp")
    ours.setLevel(level)
    ours.propagate = False
    client = ClientLogHandler(server, level)
    client.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    client.addFilter(RedactingFilter())
    ours.addHandler(client)

    stderr = logging.StreamHandler()
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    stderr.addFilter(DropCommandErrors())
    stderr.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    root.addHandler(stderr)
