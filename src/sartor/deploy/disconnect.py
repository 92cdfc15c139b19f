"""Cancel the work of a request whose client has gone away.

A streamed answer stops by itself (the response's generator is closed when a send fails); a non-streamed
one would generate to the end for nobody, holding its slot in the batch. `until_disconnect` runs it
while listening for the client's `http.disconnect`, and cancels it on one: leaving run_jobs then aborts
the generations (see serving.run_jobs)."""
import asyncio
from typing import Any, Awaitable, Callable


class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


async def wait_for_disconnect(receive: Callable[[], Awaitable[dict]]) -> None:
    """Returns when the client disconnects (call it only once the request's body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def until_disconnect(receive: Callable[[], Awaitable[dict]], work: Awaitable[Any]) -> Any:
    """The result of `work`, or ClientGone (with `work` cancelled) when the client disconnects first."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            task.cancel()
        watcher.cancel()
    if task.cancelled() or not task.done():
        try:
            await task  # let it finish cancelling (its finally blocks abort the generations)
        except asyncio.CancelledError:
            pass
        raise ClientGone()
    return task.result()
