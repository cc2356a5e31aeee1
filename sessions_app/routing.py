"""Websocket routes of the sessions app: the console's (cookie login, Origin checked) and the
ones programs use (a token in the query string; they send no Origin header)."""

from django.urls import path

from . import consumers

console_websocket_urlpatterns = [
    path("ws/sessions/", consumers.TeamSessionsConsumer.as_asgi()),
    path("ws/sessions/<str:session_id>/", consumers.SessionLiveConsumer.as_asgi()),
    path("ws/viewer/<str:token>/", consumers.ViewerConsumer.as_asgi()),
]

token_websocket_urlpatterns = [
    path("api/sessions/<str:session_id>/debug/recording", consumers.RecordingConsumer.as_asgi()),
    path("api/sessions/<str:session_id>/debug/logs", consumers.LogsConsumer.as_asgi()),
]
