"""The web side of the worker protocol: send one command, wait for its reply."""

import asyncio
import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from core.errors import Conflict, InvalidInput, Unavailable, error_for_status

from .protocol import NOT_HERE, Reply


class SessionNotOnWorker(Conflict):
    """The worker holds no such session for the caller's team: it ended, or the route is stale."""


class NoWorkerAnswered(Unavailable):
    """503: no worker replied in time (none runs, or every one is full or stuck)."""


NO_WORKER = (
    "No browser worker answered within {seconds:.0f} s; check that a worker is running "
    "(make run starts one; for scale-out run `manage.py run_browser_worker`)"
)
BACKLOG = (
    "The browser workers have more requests waiting than they can take; try again in a few seconds"
)
RETRY_AFTER = {"Retry-After": "5"}


async def call(channel: str, message: dict[str, Any], *, wait_seconds: float) -> Any:
    """Send one command and wait for its reply; raise the domain error a failure maps to."""
    layer = get_channel_layer()
    # The default prefix: with Redis, every process-local channel of this process shares one
    # reader (a consumer's own channel, its frame channel, these replies); another prefix would
    # get a reader of its own and they would wait on each other.
    reply_to = await layer.new_channel()
    message = {**message, "reply_to": reply_to, "deadline": time.time() + wait_seconds}
    try:
        await layer.send(channel, message)
    except ChannelFull:
        raise Unavailable(BACKLOG, headers=RETRY_AFTER) from None
    try:
        reply: Reply = await asyncio.wait_for(layer.receive(reply_to), wait_seconds)
    except TimeoutError:
        raise NoWorkerAnswered(NO_WORKER.format(seconds=wait_seconds)) from None
    if reply.get("ok"):
        return reply.get("data")
    status = reply.get("status", 500)
    text = reply.get("message", "the browser worker failed")
    if reply.get("code") == NOT_HERE:
        raise SessionNotOnWorker(text)
    if status == 422 and reply.get("field"):
        raise InvalidInput(reply["field"], text)
    raise error_for_status(status, text)
