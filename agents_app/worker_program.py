"""The agent loop's entry points in a browser worker: the worker runs `agent.start` and
`agent.stop` for the session they name (it checked the session's team), without importing this
app. The loops of this process are kept here so that a stop reaches the right one."""

from typing import Any

from sessions_app.worker import programs

from .loop import AgentLoop

_running: dict[str, AgentLoop] = {}


async def start(handle: programs.SessionHandle, message: dict[str, Any]) -> dict[str, Any]:
    agent_id = message["agent_id"]
    if message.get("vault_id") or message.get("persona_id"):
        handle.attach(
            vault_id=message.get("vault_id") or "", persona_id=message.get("persona_id") or ""
        )
    loop = AgentLoop(handle, agent_id)
    _running[agent_id] = loop
    task = handle.spawn(loop.run())
    task.add_done_callback(
        lambda _t: _running.pop(agent_id, None) if _running.get(agent_id) is loop else None
    )
    return {"started": True}


async def stop(handle: programs.SessionHandle, message: dict[str, Any]) -> dict[str, Any]:
    loop = _running.get(message.get("agent_id", ""))
    if loop is None or loop.handle.session_id != handle.session_id:
        return {"stopping": False}
    loop.stopped.set()
    return {"stopping": True}


def running_agent_ids() -> list[str]:
    return list(_running)


def register_programs() -> None:
    programs.register("agent.start", start)
    programs.register("agent.stop", stop)
