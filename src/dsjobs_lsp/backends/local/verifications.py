"""Uploads answered before their bytes are verified, and what waits for them.

A file the store copies itself (``local_copy``) is answered as soon as its bytes are in a scratch file;
hashing them ends a little later, on a worker thread. Until then the file is not stored: whatever needs it
(creating a job that lists it, executing one) first waits here for its verification to end, and learns why a
file that failed was not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine, Iterable
from typing import Any

logger = logging.getLogger(__name__)

FAILURES_KEPT = 1000
"""Reasons of failed verifications remembered (the oldest are forgotten first)."""


class PendingVerifications:
    """Verifications under way, by sha256, and the reasons of the latest failed ones."""

    def __init__(self) -> None:
        self._pending: dict[str, set[asyncio.Task[None]]] = {}
        self._failures: OrderedDict[str, str] = OrderedDict()

    def start(self, sha256: str, verification: Coroutine[Any, Any, None]) -> None:
        """Run ``verification`` (it stores the file, or raises why not) in the background."""
        task = asyncio.create_task(self._run(sha256, verification), name=f"verify-{sha256[:12]}")
        self._pending.setdefault(sha256, set()).add(task)

    async def settle(self, sha256s: Iterable[str]) -> dict[str, str]:
        """Wait for the verifications of these files to end; the reasons of those that failed (by sha256)."""
        wanted = set(sha256s)
        tasks = [task for sha256 in wanted for task in self._pending.get(sha256, ())]
        if tasks:
            await asyncio.wait(tasks)
        return {sha256: self._failures[sha256] for sha256 in wanted if sha256 in self._failures}

    async def close(self) -> None:
        """Cancel the verifications under way (their scratch files are removed at the next start)."""
        tasks = [task for tasks in self._pending.values() for task in tasks]
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, sha256: str, verification: Coroutine[Any, Any, None]) -> None:
        try:
            await verification
        except Exception as error:
            logger.warning("upload %s not stored: %s", sha256[:12], error)
            self._failures[sha256] = str(error)
            self._failures.move_to_end(sha256)
            while len(self._failures) > FAILURES_KEPT:
                self._failures.popitem(last=False)
        else:
            self._failures.pop(sha256, None)
        finally:
            task = asyncio.current_task()
            tasks = self._pending.get(sha256, set())
            tasks.discard(task)  # type: ignore[arg-type]
            if not tasks:
                self._pending.pop(sha256, None)
