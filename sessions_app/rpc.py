"""Request/reply over the channel layer, as seen from the web process."""

import asyncio
import time
from typing import Any

from channels.layers import get_channel_layer

from core.errors import InvalidInput, PeriscopeError, Unavailable

from .protocol import Reply


async def call(channel: str, message: dict[str, Any], *, wait_seconds: float) -> Any:
    """Send one command and wait for its reply; raise the domain error a failure maps to."""
    layer = get_channel_layer()
    reply_to = await layer.new_channel("browser-reply.")
    message = {**message, "reply_to": reply_to, "deadline": time.time() + wait_seconds}
    await layer.send(channel, message)
    try:
        reply: Reply = await asyncio.wait_for(layer.receive(reply_to), wait_seconds)
    except TimeoutError:
        raise Unavailable(
            f"No browser worker answered within {wait_seconds:.0f} s; check that a worker is running "
            "(make run starts one; for scale-out run `manage.py run_browser_worker`)"
        ) from None
    if reply.get("ok"):
        return reply.get("data")
    status = reply.get("status", 500)
    text = reply.get("message", "the browser worker failed")
    if status == 422 and reply.get("field"):
        raise InvalidInput(reply["field"], text)
    error = PeriscopeError(text)
    error.status = status
    raise error
