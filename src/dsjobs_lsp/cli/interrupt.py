"""`asyncio.run` with Python 3.11's Ctrl-C behaviour on every supported Python.

On 3.11+ `asyncio.run` turns SIGINT into a cancellation of the main task (every `finally` and cleanup
runs) and then raises `KeyboardInterrupt`. On 3.10 the interrupt is raised wherever the loop happens to be,
which leaves tasks half-stopped and prints their tracebacks. `run_interruptible` gives 3.10 the same shape.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_interruptible(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion; Ctrl-C cancels it cleanly, then raises `KeyboardInterrupt`."""
    if sys.version_info >= (3, 11):
        return asyncio.run(main)
    return asyncio.run(_cancelled_by_sigint(main))


async def _cancelled_by_sigint(main: Coroutine[Any, Any, T]) -> T:
    task = asyncio.ensure_future(main)
    interrupted = False

    def on_sigint() -> None:
        nonlocal interrupted
        interrupted = True
        task.cancel()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        return await task
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)
