"""Programs that run inside a browser worker, next to a session's page (the agent loop is one).

An app registers the command that starts its program (`register("agent.start", handler)`, from
its AppConfig.ready), so the worker never imports it. The command names are listed in the
worker protocol (protocol.PROGRAM_COMMANDS), so that its CommandType names every command a
worker handles: registering any other name is refused. The handler gets a SessionHandle: what a
program may do with its session. Every page action goes through the same code path as the API's
(the session's lock, the control lease, step recording, live events), and the program's tasks
end when the session does.
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .protocol import PROGRAM_COMMANDS

if TYPE_CHECKING:
    from .runner import Worker

ProgramHandler = Callable[["SessionHandle", dict[str, Any]], Awaitable[Any]]
_handlers: dict[str, ProgramHandler] = {}


def register(command_type: str, handler: ProgramHandler) -> None:
    if command_type not in PROGRAM_COMMANDS:
        raise ValueError(
            f"{command_type!r} is not a program command of the worker protocol; add it to "
            "CommandType and PROGRAM_COMMANDS in sessions_app/worker/protocol.py"
        )
    _handlers[command_type] = handler


def handler_for(command_type: str) -> ProgramHandler | None:
    return _handlers.get(command_type)


class SessionHandle:
    def __init__(self, worker: "Worker", session_id: str):
        self._worker = worker
        self.session_id = session_id

    @property
    def is_open(self) -> bool:
        return self._worker.holds(self.session_id)

    @property
    def control_holder(self) -> str | None:
        """Who holds control of the page by hand, if anyone: a program pauses meanwhile."""
        return self._worker.live.holder(self.session_id) if self._worker.live else None

    async def observe(self, *, max_nb_actions: int = 100) -> dict[str, Any]:
        """The Observation as the API answers it (a dict), plus `count`: actions on the page.
        Vault values this session filled are masked in it, as in every text leaving the worker."""
        return await self._worker.program_observe(self.session_id, max_nb_actions)

    async def execute(self, action: dict[str, Any]) -> dict[str, Any]:
        """Carry out one action, exactly as POST /page/execute does: the result has success,
        message, data, started_at, ended_at, url_before, url_after (epoch seconds), `target`:
        the element acted on, findable again without observe ids (browser/perception/target.py),
        or None for an action on no element; and `session_step_index`: the session step that
        records it."""
        return await self._worker.program_execute(self.session_id, action)

    def attach(self, *, vault_id: str = "", persona_id: str = "") -> None:
        """Fill from this vault and read this persona's messages from now on, when the session
        started without them (the caller checked the team and rights, and wrote the row)."""
        self._worker.program_attach(self.session_id, vault_id=vault_id, persona_id=persona_id)

    async def screenshot(self) -> bytes:
        """The page as JPEG, as every other image the server produces shows it."""
        return await self._worker.program_screenshot(self.session_id)

    def spawn(self, coro) -> Any:
        """Run a task that ends (is cancelled) when the session ends or the worker stops."""
        return self._worker.spawn_for_session(self.session_id, coro)
