"""Live events of sessions: the only module that sends to channel-layer groups.

Every watcher of a session (the console's live view, the viewer page, the Notte logs socket)
is in the group `session.<id>`; the console's sessions list is in `team.<id>.sessions`. Payloads
are small plain dicts, typed below; frames do not go through groups (see worker/live.py).
Writers in a transaction publish with `publish_on_commit`, so nobody sees a state that is rolled
back.
"""

import logging
from typing import Any, Literal, NotRequired, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

# Channels' type for the message that carries one event to consumers (their `live_event`).
MESSAGE_TYPE = "live.event"


def session_group(session_id: str) -> str:
    return f"session.{session_id}"


def team_sessions_group(team_id: str) -> str:
    return f"team.{team_id}.sessions"


class StepStarted(TypedDict):
    type: Literal["step.started"]
    index: int
    action: dict[str, Any]  # as recorded: filled values masked
    url: str


class StepFinished(TypedDict):
    type: Literal["step.finished"]
    index: int
    action: dict[str, Any]
    success: bool
    message: str
    url: str
    duration_ms: float
    screenshot_url: str | None


class Navigated(TypedDict):
    type: Literal["page.navigated"]
    url: str
    title: str


class Tab(TypedDict):
    tab_id: int
    title: str
    url: str
    active: bool


class TabsChanged(TypedDict):
    type: Literal["tabs.changed"]
    tabs: list[Tab]


class StatusChanged(TypedDict):
    type: Literal["status.changed"]
    session_id: str
    status: str
    reason: str


class ControlChanged(TypedDict):
    type: Literal["control.changed"]
    holder: (
        str | None
    )  # who holds control now, as shown to watchers; None: the API and agents drive
    holder_user_id: int | None
    since: str | None
    reason: str


class ConsoleError(TypedDict):
    type: Literal["page.console_error"]
    text: str
    url: str


class RequestFailed(TypedDict):
    type: Literal["page.request_failed"]
    url: str
    method: str
    error: str


class StreamEnded(TypedDict):
    type: Literal["stream.ended"]
    reason: str
    status: NotRequired[str]


LiveEvent = (
    StepStarted
    | StepFinished
    | Navigated
    | TabsChanged
    | StatusChanged
    | ControlChanged
    | ConsoleError
    | RequestFailed
    | StreamEnded
)


async def publish(session_id: str, event: LiveEvent) -> None:
    """Send to everyone watching the session. Never raises: a live view is not worth a failure."""
    try:
        await get_channel_layer().group_send(
            session_group(session_id), {"type": MESSAGE_TYPE, "event": event}
        )
    except Exception:
        log.exception("could not publish %s for session %s", event.get("type"), session_id)


async def publish_team(team_id: str, event: LiveEvent) -> None:
    try:
        await get_channel_layer().group_send(
            team_sessions_group(team_id), {"type": MESSAGE_TYPE, "event": event}
        )
    except Exception:
        log.exception("could not publish %s for team %s", event.get("type"), team_id)


def publish_on_commit(session_id: str, event: LiveEvent, *, team_id: str | None = None) -> None:
    """From synchronous code in a transaction: send once it commits (at once outside one)."""

    def send() -> None:
        async_to_sync(publish)(session_id, event)
        if team_id is not None:
            async_to_sync(publish_team)(team_id, event)

    transaction.on_commit(send)


def status_changed(*, session_id: str, team_id: str, status: str, reason: str) -> None:
    public = "active" if status == "starting" else status
    publish_on_commit(
        session_id,
        StatusChanged(type="status.changed", session_id=session_id, status=public, reason=reason),
        team_id=team_id,
    )


def control_changed(
    *,
    session_id: str,
    holder: str | None,
    holder_user_id: int | None,
    since: str | None,
    reason: str,
) -> None:
    publish_on_commit(
        session_id,
        ControlChanged(
            type="control.changed",
            holder=holder,
            holder_user_id=holder_user_id,
            since=since,
            reason=reason,
        ),
    )
