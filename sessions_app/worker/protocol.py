"""The messages between web processes and browser workers, over the channel layer.

Starts (and one-shot scrapes, which need a fresh context too) go to one shared queue that any
worker with free capacity reads; every later command goes to the owning worker's own channel
(stored on the session row). Each command carries the caller's reply channel and the team the
caller authenticated as: the worker refuses a command for a session of another team, so a
cached route can never reach another team's session. Replies are {"ok": True, "data": ...} or
{"ok": False, "status", "message"[, "field"]}.
"""

from typing import Any, Literal, NotRequired, TypedDict

START_QUEUE = "browser-worker.start"

CommandType = Literal[
    # on the shared queue
    "session.start",
    "scrape.oneshot",
    # on the owning worker's channel
    "session.stop",
    "session.sync",
    "session.tabs",
    "session.cookies.get",
    "session.cookies.set",
    "session.observe",
    "session.execute",
    "session.scrape",
    "session.screenshot",
    # the live layer
    "session.watch",
    "session.unwatch",
    "session.control",
    "session.input",
    # CDP attach (worker/cdp.py): open answers with the bridge's id; in, ping and close are the
    # consumer's relay, handled in arrival order
    "session.cdp.open",
    "session.cdp.in",
    "session.cdp.ping",
    "session.cdp.close",
    # programs that run next to a session's page (worker/programs.py): the app that owns one
    # registers its handler, so the worker never imports it
    "agent.start",
    "agent.stop",
]

PROGRAM_COMMANDS = frozenset({"agent.start", "agent.stop"})

# Handled as they arrive, without a task or a reply: a client's frames keep their order.
CDP_RELAY = frozenset({"session.cdp.in", "session.cdp.close"})


class Command(TypedDict):
    type: CommandType
    session_id: str
    team_id: str
    reply_to: NotRequired[str]
    deadline: NotRequired[float]
    # session.start
    spec: NotRequired[dict[str, Any]]
    # session.cookies.set; session.cookies.get (may_reveal: the caller may read vault-class data)
    cookies: NotRequired[list[dict[str, Any]]]
    may_reveal: NotRequired[bool]
    # session.start: the vault its fills may use, the persona whose mail it reads
    vault_id: NotRequired[str]
    persona_id: NotRequired[str]
    # session.observe
    max_nb_actions: NotRequired[int]
    # session.execute
    action: NotRequired[dict[str, Any]]
    # session.scrape, scrape.oneshot
    options: NotRequired[dict[str, Any]]
    url: NotRequired[str]
    # session.screenshot
    image_type: NotRequired[str]
    quality: NotRequired[int | None]
    full_page: NotRequired[bool]
    # session.watch / session.unwatch: the watcher's own frame channel, and its rate
    channel: NotRequired[str]
    rate: NotRequired[str]
    # session.control: who holds control now (None: nobody)
    holder: NotRequired[str | None]
    holder_user_id: NotRequired[int | None]
    # session.input (sent without reply_to: nobody waits for it)
    event: NotRequired[dict[str, Any]]
    # session.cdp.*: the bridge (from open's answer) and a client's text frame; open names the
    # consumer's channel, where the bridge's messages go
    bridge: NotRequired[str]
    text: NotRequired[str]
    # agent.start / agent.stop: the run; agent.start also names its vault and persona (above)
    agent_id: NotRequired[str]


class Reply(TypedDict):
    ok: bool
    status: NotRequired[int]
    field: NotRequired[str]
    message: NotRequired[str]
    data: NotRequired[Any]
    # "not_here": the worker holds no such session for this team (it ended, or never was)
    code: NotRequired[str]


NOT_HERE = "not_here"


def ok(data: Any = None) -> Reply:
    return {"ok": True, "data": data}


def failure(status: int, message: str, field: str | None = None, code: str | None = None) -> Reply:
    reply: Reply = {"ok": False, "status": status, "message": message}
    if field:
        reply["field"] = field
    if code:
        reply["code"] = code
    return reply


def not_here(session_id: str) -> Reply:
    return failure(
        409, f"session {session_id} is no longer open on its worker; start a new one", code=NOT_HERE
    )
