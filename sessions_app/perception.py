"""Web-side perception services: ask the owning worker, then shape the answer for the API.

Narrowing by instructions and structured extraction happen here, not in the worker, so a
worker never waits on an LLM.
"""

import asyncio
import re
from typing import Any

import jsonschema

from core import llm
from core.errors import InvalidInput

from .models import BrowserSession
from .presenters import iso, observation_to_wire
from .services import session_command

MIN_ACTIONS_WAIT_SECONDS = 3.0
WORD = re.compile(r"[a-z0-9]{2,}")
STOP_WORDS = {"the", "to", "on", "in", "of", "and", "or", "a", "an", "for", "with", "my", "me", "find", "all", "this"}


async def observe(*, session: BrowserSession, max_nb_actions: int, min_nb_actions: int | None,
                  instructions: str | None, perception_type: str) -> dict[str, Any] | str:
    """The Observation; as a ready JSON string when no narrowing is asked (the common case)."""
    if perception_type == "deep":
        llm.require("perception_type")
    command: dict[str, Any] = {"type": "session.observe"}
    if not instructions:
        command["max_nb_actions"] = max_nb_actions
    deadline = asyncio.get_running_loop().time() + MIN_ACTIONS_WAIT_SECONDS
    while True:
        raw = await session_command(session=session, command=command)
        found = raw["count"] if not instructions else len(raw["actions"])
        enough = min_nb_actions is None or found >= min_nb_actions
        if enough or asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(0.25)  # the page is still building its controls
    if not instructions:
        return raw["json"]
    actions = await narrow(raw["actions"], instructions)
    return observation_to_wire(raw, actions[:max_nb_actions])


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
        chosen = [by_id[i] for i in answer.get("ids", []) if i in by_id]
        return chosen
    return lexical_rank(actions, instructions)


def _searchable(description: str) -> str:
    """The words a person would match on: text and attribute values, not tag or attribute
    names (every button has type=...), nor URLs."""
    text = re.sub(r'(?:href|src)="[^"]*"', " ", description.lower())
    text = re.sub(r'[\w-]+="', ' "', text)
    return re.sub(r"</?[a-z0-9]+", " ", text)


def lexical_rank(actions: list[dict[str, Any]], instructions: str) -> list[dict[str, Any]]:
    """Actions sharing words with the instructions, best first; all of them if none does."""
    wanted = {w for w in WORD.findall(instructions.lower()) if w not in STOP_WORDS}
    scored = []
    for position, action in enumerate(actions):
        words = set(WORD.findall(_searchable(action["description"])))
        score = sum(1 for w in wanted if w in words or any(v.startswith(w) for v in words))
        if score:
            scored.append((-score, position, action))
    return [a for _, _, a in sorted(scored)] or actions


async def structured(*, markdown: str, instructions: str | None, response_format: dict[str, Any] | None) -> dict:
    """{success, error, data} extracted from the page text by the LLM, checked against the schema."""
    prompt = f"Instructions: {instructions or 'Extract the data described by the schema.'}\n\nPage:\n{markdown[:60000]}"
    data = await llm.complete_json(
        system="You extract data from a web page's markdown and answer with JSON only.",
        user=prompt, schema=response_format,
    )
    if response_format:
        try:
            jsonschema.validate(data, response_format)
        except jsonschema.ValidationError as exc:
            return {"success": False, "error": f"the LLM's answer does not match response_format: {exc.message}",
                    "data": data}
    return {"success": True, "error": None, "data": data}


def check_structured_request(instructions: str | None, response_format: dict[str, Any] | None) -> None:
    if response_format is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(response_format)
        except jsonschema.SchemaError as exc:
            raise InvalidInput("response_format", f"is not a valid JSON schema: {exc.message}") from None
    if instructions or response_format:
        llm.require("response_format" if response_format else "instructions")


async def scrape(*, session: BrowserSession, options: dict[str, Any]) -> dict[str, Any]:
    instructions, response_format = options.get("instructions"), options.get("response_format")
    check_structured_request(instructions, response_format)
    data = await session_command(session=session, command={"type": "session.scrape", "options": options})
    if instructions or response_format:
        data["structured"] = await structured(markdown=data["markdown"], instructions=instructions,
                                              response_format=response_format)
    return data


async def execute(*, session: BrowserSession, action: dict[str, Any]) -> dict[str, Any]:
    if action["type"] == "scrape":
        check_structured_request(action.get("instructions"), action.get("response_format"))
    result = await session_command(session=session, command={"type": "session.execute", "action": action})
    wants_structured = action.get("instructions") or action.get("response_format")
    if result["success"] and action["type"] == "scrape" and result.get("data") and wants_structured:
        result["data"]["structured"] = await structured(
            markdown=result["data"]["markdown"], instructions=action.get("instructions"),
            response_format=action.get("response_format"),
        )
    reply: dict[str, Any] = {
        "started_at": iso(result["started_at"]),
        "ended_at": iso(result["ended_at"]),
        "action": action,
        "success": result["success"],
        "message": result["message"],
        # With success true the SDK refuses a non-null exception; with false it raises from it.
        "exception": None if result["success"] else result["message"],
    }
    if result.get("data") and "markdown" in result["data"]:  # only DataSpace-shaped data validates
        reply["data"] = result["data"]
    return reply
