"""The agent logs socket notte-sdk's `agent.run()` and `watch_logs()` open:
/api/agents/<id>/debug/logs?token=<API key>&session_id=<sid>.

The SDK sends no Origin header and crashes on any handshake answer but 101, so the socket is
always accepted; a bad token, another team's agent or an unknown one is then closed at once with
1000 (the SDK falls back to polling the status, which answers 404 the same way).

Otherwise it relays the run's steps as AgentCompletion JSON, then the final
{"status": "agent_stop", "agent": AgentStatusResponse} once the run closes, and closes. It joins
the session's group before reading what is recorded, so no step falls between the two.
"""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from core.errors import NotFound
from sessions_app.events import session_group
from teams_app.auth import authenticate
from teams_app.models import Scope

from . import selectors
from .schemas import AgentStatusResponse, on_the_wire, step_wire

CLOSE_NORMAL = 1000


def _query(scope) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}


def _backlog(*, team, agent_id: str, after_index: int):
    run = selectors.agent_get_for_team(team=team, agent_id=agent_id)
    return run, selectors.agent_steps(run=run, after_index=after_index)


class AgentLogsConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = None
        self.sent = 0  # the highest step index sent
        self.done = False
        await self.accept()
        key = await authenticate(_query(self.scope).get("token", ""))
        if key is None or not key.has_scope(Scope.AGENTS):
            return await self.close(code=CLOSE_NORMAL)
        self.team = key.team
        self.agent_id = self.scope["url_route"]["kwargs"]["agent_id"]
        try:
            run = await database_sync_to_async(selectors.agent_get_for_team)(
                team=self.team, agent_id=self.agent_id
            )
        except NotFound:
            return await self.close(code=CLOSE_NORMAL)
        self.group = session_group(str(run.session_id))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self._catch_up()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _catch_up(self) -> None:
        """Send what is recorded past what was sent; end once the run is closed."""
        if self.done:
            return
        run, steps = await database_sync_to_async(_backlog)(
            team=self.team, agent_id=self.agent_id, after_index=self.sent
        )
        for step in steps:
            if on_the_wire(step):
                await self.send(text_data=json.dumps(step_wire(step)))
            self.sent = step.index
        if not run.is_open:
            self.done = True
            every = await database_sync_to_async(selectors.agent_steps)(run=run)
            agent = AgentStatusResponse.from_run(run, every).model_dump(mode="json")
            await self.send(text_data=json.dumps({"status": "agent_stop", "agent": agent}))
            await self.close(code=CLOSE_NORMAL)

    async def live_event(self, message) -> None:
        event = message["event"]
        if event.get("agent_id") != self.agent_id:
            return
        if event["type"] == "agent.step" and event["index"] == self.sent + 1:
            if event["success"] or event["action"].get("type") != "completion":
                await self.send(
                    text_data=json.dumps(
                        {
                            "state": event["state"],
                            "action": event["action"],
                            "started_at": event["started_at"],
                            "ended_at": event["ended_at"],
                        }
                    )
                )
            self.sent = event["index"]
        elif event["type"] in ("agent.step", "agent.status") and (
            event["type"] == "agent.step" or event["status"] == "closed"
        ):
            await self._catch_up()
