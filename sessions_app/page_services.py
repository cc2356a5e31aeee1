"""Services behind the page endpoints (observe, execute, scrape, screenshot): ask the owning
worker, then shape the answer for the API.

Narrowing by instructions and structured extraction happen here, not in the worker, so a
worker never waits on an LLM.
"""

import asyncio
from typing import Any

from core import llm
from teams_app.models import Team

from .extraction import check_structured_request, wants_structured, with_structured
from .ranking import lexical_rank
from .schemas import ExecutionResult, Observation
from .services import session_command_by_id

MIN_ACTIONS_WAIT_SECONDS = 3.0


async def observe(
    *,
    team: Team,
    session_id: str,
    max_nb_actions: int,
    min_nb_actions: int | None,
    instructions: str | None,
    perception_type: str,
) -> dict[str, Any] | bytes:
    """The Observation; as ready JSON bytes when no narrowing is asked (the common case)."""
    if perception_type == "deep":
        llm.require("perception_type")
    command: dict[str, Any] = {"type": "session.observe"}
    if not instructions:
        command["max_nb_actions"] = max_nb_actions
    deadline = asyncio.get_running_loop().time() + MIN_ACTIONS_WAIT_SECONDS
    while True:
        raw = await session_command_by_id(team=team, session_id=session_id, command=command)
        found = raw["count"] if not instructions else len(raw["actions"])
        enough = min_nb_actions is None or found >= min_nb_actions
        if enough or asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(0.25)  # the page is still building its controls
    if not instructions:
        return raw["json"]
    actions = (await narrow(raw["actions"], instructions))[:max_nb_actions]
    # The description lists exactly the actions returned, most relevant first.
    description = "\n".join(f"{a['id']}[:]{a['description']}" for a in actions)
    return Observation.wire(raw, actions, description)


async def narrow(actions: list[dict[str, Any]], instructions: str) -> list[dict[str, Any]]:
    """The actions relevant to the instructions: through the LLM when configured, else lexically."""
    if llm.configured():
        listing = "\n".join(f"{a['id']}: {a['description']}" for a in actions)
        answer = await llm.complete_json(
            system="You select the page actions relevant to a user's instructions. "
            'Answer JSON {"ids": [...]} with ids from the list, most relevant first.',
            user=f"Instructions: {instructions}\n\nActions:\n{listing}",
        )
        by_id = {a["id"]: a for a in actions}
        return [by_id[i] for i in answer.get("ids", []) if i in by_id]
    return lexical_rank(actions, instructions)


async def scrape(*, team: Team, session_id: str, options: dict[str, Any]) -> dict[str, Any]:
    check_structured_request(options.get("instructions"), options.get("response_format"))
    data = await session_command_by_id(
        team=team, session_id=session_id, command={"type": "session.scrape", "options": options}
    )
    return await with_structured(data, options)


async def execute(*, team: Team, session_id: str, action: dict[str, Any]) -> dict[str, Any]:
    if action["type"] == "scrape":
        check_structured_request(action.get("instructions"), action.get("response_format"))
    result = await session_command_by_id(
        team=team, session_id=session_id, command={"type": "session.execute", "action": action}
    )
    if (
        result["success"]
        and action["type"] == "scrape"
        and result.get("data")
        and wants_structured(action)
    ):
        result["data"] = await with_structured(result["data"], action)
    return ExecutionResult.wire(result, action)


async def screenshot(
    *, team: Team, session_id: str, image_type: str, quality: int | None, full_page: bool
) -> bytes:
    return await session_command_by_id(
        team=team,
        session_id=session_id,
        command={
            "type": "session.screenshot",
            "image_type": image_type,
            "quality": quality,
            "full_page": full_page,
        },
    )
