"""The messages between web processes and browser workers, over the channel layer.

Starts go to one shared queue that any worker with free capacity reads; every later command
goes to the owning worker's own channel (stored on the session row). Each command carries the
caller's reply channel; replies are {"ok": True, ...} or {"ok": False, "status", "message"}.
"""

from typing import Any, Literal, NotRequired, TypedDict

START_QUEUE = "browser-worker.start"


class Command(TypedDict):
    type: Literal["session.start", "session.stop", "session.cookies.get", "session.cookies.set"]
    session_id: str
    reply_to: str
    deadline: float
    spec: NotRequired[dict[str, Any]]
    cookies: NotRequired[list[dict[str, Any]]]
    reason: NotRequired[str]


class Reply(TypedDict):
    ok: bool
    status: NotRequired[int]
    field: NotRequired[str]
    message: NotRequired[str]
    data: NotRequired[Any]


def ok(data: Any = None) -> Reply:
    return {"ok": True, "data": data}


def failure(status: int, message: str, field: str | None = None) -> Reply:
    reply: Reply = {"ok": False, "status": status, "message": message}
    if field:
        reply["field"] = field
    return reply
