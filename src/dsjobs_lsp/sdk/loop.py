"""The SDK's private event loop: one per process, in a daemon thread, shared by every `SDK` instance.

Synchronous calls submit a coroutine and block on its result, so they work where a loop already runs in the
calling thread (a Jupyter kernel) and from any number of threads at once; async calls await the same work
from the caller's own loop. gRPC channels and the job runner live only on this loop.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

_lock = threading.Lock()
_shared: PrivateLoop | None = None


class PrivateLoop:
    """An asyncio loop running forever in its own daemon thread."""

    def __init__(self, name: str = "dsjobs-sdk-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        """Schedule `work` on the loop; the returned future cancels it when cancelled."""
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the loop and wait for its result in the calling thread.

        Ctrl-C (a `KeyboardInterrupt`, e.g. Jupyter's "interrupt kernel") cancels the work and re-raises.
        """
        if threading.current_thread() is self.thread:
            work.close()
            raise RuntimeError(
                "a synchronous SDK call was made from the SDK's own event loop (e.g. inside an event "
                "callback); use the async methods (`await sdk.arun(...)`) there"
            )
        future = self.submit(work)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    async def run_async(self, work: Coroutine[Any, Any, T]) -> T:
        """Await `work`, run on the private loop, from any other loop (cancellation is passed on)."""
        if asyncio.get_running_loop() is self.loop:
            return await work
        return await asyncio.wrap_future(self.submit(work))


def shared_loop() -> PrivateLoop:
    """The process's private loop (started on first use)."""
    global _shared
    with _lock:
        if _shared is None or not _shared.thread.is_alive():
            _shared = PrivateLoop()
        return _shared


class OnPrivateLoop(Protocol):
    """An object whose async methods run on a `PrivateLoop` (an `SDK`, a `Job`)."""

    @property
    def loop(self) -> PrivateLoop:
        """The loop its work runs on."""
        ...


S = TypeVar("S", bound=OnPrivateLoop)


def blocking(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]], name: str
) -> Callable[Concatenate[S, P], T]:
    """The synchronous twin, called `name`, of an async method: it runs the method on the object's private
    loop and waits for the result (same parameters, same docstring)."""

    def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.loop.run(method(self, *args, **kwargs))

    functools.update_wrapper(call, method)
    call.__name__ = name
    call.__qualname__ = f"{method.__qualname__.rpartition('.')[0]}.{name}"
    return call
