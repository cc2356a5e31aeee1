"""Websocket routes of the agents app: the logs socket programs open (a token in the query)."""

from django.urls import path

from . import consumers

token_websocket_urlpatterns = [
    path("api/agents/<str:agent_id>/debug/logs", consumers.AgentLogsConsumer.as_asgi()),
]
