"""Websocket routes gathered from the apps, and a clean refusal for any other path."""

from django.urls import re_path


async def no_route(scope, receive, send):
    """Close before accepting: the client sees its handshake refused (HTTP 403)."""
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 4404})


websocket_urlpatterns: list = [
    re_path(r"", no_route),
]
