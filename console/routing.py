"""Websocket routes gathered from the apps, and a clean refusal for any other path.

Two kinds of socket: the console's, opened by its pages (a login cookie authenticates them and
their Origin must be one of ours), and the API's, opened by programs such as notte-sdk (a token
in the query string authenticates them; they send no Origin header at all).
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import re_path

from agents_app.routing import token_websocket_urlpatterns as agent_token_websockets
from sessions_app.routing import console_websocket_urlpatterns, token_websocket_urlpatterns


async def no_route(scope, receive, send):
    """Close before accepting: the client sees its handshake refused (HTTP 403)."""
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 4404})


console_websockets = AllowedHostsOriginValidator(
    AuthMiddlewareStack(URLRouter([*console_websocket_urlpatterns, re_path(r"", no_route)]))
)
token_websockets = URLRouter(
    [*token_websocket_urlpatterns, *agent_token_websockets, re_path(r"", no_route)]
)


async def websocket_app(scope, receive, send):
    path = scope["path"]
    app = token_websockets if path.startswith(("/api/", "/cdp/")) else console_websockets
    await app(scope, receive, send)
