"""The perception endpoints of the Notte API: observe, execute, scrape, screenshot."""

import json
from typing import Any, Literal

import pydantic
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import ValidationError

from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

from . import perception, selectors, services
from .action_schemas import action_adapter

router = Router(tags=["Page"], auth=ApiKeyAuth(scope=Scope.SESSIONS))


class ObserveRequest(Schema):
    min_nb_actions: int | None = Field(None, ge=0, le=1000)
    max_nb_actions: int = Field(100, ge=1, le=2000)
    instructions: str | None = Field(None, max_length=2000)
    perception_type: Literal["fast", "deep"] | None = "fast"


class ScrapeRequest(Schema):
    selector: str | None = None
    scrape_links: bool = False
    scrape_images: bool = False
    ignored_tags: list[str] | None = None
    only_main_content: bool = True
    only_images: bool = False
    response_format: dict[str, Any] | None = None
    instructions: str | None = Field(None, max_length=4000)
    use_link_placeholders: bool = False


class ScreenshotRequest(Schema):
    type: Literal["png", "jpeg"] = "png"
    quality: int | None = Field(None, ge=1, le=100)
    full_page: bool = False


@router.post("/{session_id}/page/observe", operation_id="pageObserve")
async def observe(request: HttpRequest, session_id: str, body: ObserveRequest | None = None):
    body = body or ObserveRequest()
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    observation = await perception.observe(
        session=session, max_nb_actions=body.max_nb_actions, min_nb_actions=body.min_nb_actions,
        instructions=body.instructions, perception_type=body.perception_type or "fast",
    )
    if isinstance(observation, str):
        return HttpResponse(observation, content_type="application/json")
    return observation


@router.post("/{session_id}/page/execute", operation_id="pageExecute")
async def execute(request: HttpRequest, session_id: str):
    action = _action_from(request)
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    return await perception.execute(session=session, action=action)


@router.post("/{session_id}/page/scrape", operation_id="pageScrape")
async def scrape(request: HttpRequest, session_id: str, body: ScrapeRequest | None = None):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    return await perception.scrape(session=session, options=(body or ScrapeRequest()).model_dump())


@router.post("/{session_id}/page/screenshot", operation_id="pageScreenshot")
async def screenshot(request: HttpRequest, session_id: str, body: ScreenshotRequest | None = None):
    body = body or ScreenshotRequest()
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    image = await services.session_command(session=session, command={
        "type": "session.screenshot", "image_type": body.type, "quality": body.quality, "full_page": body.full_page,
    })
    return HttpResponse(image, content_type=f"image/{body.type}")


def _action_from(request: HttpRequest) -> dict[str, Any]:
    """The bare action object (not wrapped), validated; returned exactly as received."""
    try:
        action = json.loads(request.body or b"{}")
    except json.JSONDecodeError as exc:
        raise ValidationError([{"loc": ["body"], "msg": f"invalid JSON: {exc}", "type": "json_invalid"}]) from None
    if not isinstance(action, dict):
        raise ValidationError([{"loc": ["body"], "msg": "send the action as a JSON object", "type": "type_error"}])
    try:
        action_adapter.validate_python(action)
    except pydantic.ValidationError as exc:
        raise ValidationError([_error_for(action, e) for e in exc.errors()]) from None
    return action


def _error_for(action: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    loc = list(error.get("loc", ()))
    if loc and loc[0] == action.get("type"):
        loc = loc[1:]  # pydantic puts the union tag first
    if error.get("type", "").startswith("union_tag") or (not loc and "tag" in error.get("msg", "")):
        loc = ["type"]
    return {"loc": ["body", *loc], "msg": error["msg"], "type": error["type"]}
