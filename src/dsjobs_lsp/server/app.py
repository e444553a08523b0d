"""The language server object: `DsjobsServer`, and `build_server()` which registers every feature.

Only pygls, lsprotocol, pydantic and the server's own light modules are imported here, so `initialize` answers
fast; the core (gRPC, yandexcloud, httpx, the runner) is imported by the first command that needs it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from dsjobs_lsp import __version__
from dsjobs_lsp.server.jobs import JobService
from dsjobs_lsp.server.notifier import LogBatcher
from dsjobs_lsp.server.session import Session

log = logging.getLogger("dsjobs_lsp.server")


class DsjobsServer(LanguageServer):
    """pygls server with the dsjobs session, the log batcher and the background tasks of running jobs."""

    def __init__(self) -> None:
        super().__init__(
            "dsjobs", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.session = Session()
        self._logs: LogBatcher | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.jobs = JobService(self)

    @property
    def logs(self) -> LogBatcher:
        """The shared batcher of `dsjobs/log` notifications (created on the event loop at first use)."""
        if self._logs is None:
            self._logs = LogBatcher(self.send)
        return self._logs

    def send(self, method: str, params: dict[str, Any]) -> None:
        """Send a custom notification; `params` holds plain JSON values, serialised as they are.

        (`notify` would walk every value of the payload with pygls's converter first: most of the cost of a
        `dsjobs/log` message of thousands of lines.)
        """
        self.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})

    def show(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        """`window/showMessage`."""
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coroutine` in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def supports_work_done_progress(self) -> bool:
        """True when the client accepts server-initiated work-done progress."""
        window = self.client_capabilities.window
        return bool(window and window.work_done_progress)


def build_server() -> DsjobsServer:
    """A server with every dsjobs feature registered."""
    from dsjobs_lsp.server.commands import register_commands
    from dsjobs_lsp.server.documents import register_documents

    server = DsjobsServer()

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: DsjobsServer, params: types.InitializeParams) -> None:
        ls.session.initialize(params.initialization_options)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_configuration(ls: DsjobsServer, params: types.DidChangeConfigurationParams) -> None:
        ls.session.change_settings(params.settings)

    register_commands(server)
    register_documents(server)
    return server
