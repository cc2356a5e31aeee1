"""The page resource of a session: observe, execute, scrape, screenshot."""

from django.http import HttpRequest, HttpResponse
from ninja import Body, Router

from sessions_app import page_services
from sessions_app.schemas import (
    Action,
    DataSpace,
    ExecutionResult,
    Observation,
    ObserveRequest,
    ScrapeRequest,
    ScreenshotRequest,
    action_echo,
)
from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

router = Router(tags=["Page"], auth=ApiKeyAuth(scope=Scope.SESSIONS))


@router.post("/{session_id}/page/observe", response=Observation, operation_id="pageObserve")
async def observe(request: HttpRequest, session_id: str, body: ObserveRequest | None = None):
    body = body or ObserveRequest()
    observation = await page_services.observe(
        team=request.auth.team,
        session_id=session_id,
        max_nb_actions=body.max_nb_actions,
        min_nb_actions=body.min_nb_actions,
        instructions=body.instructions,
        perception_type=body.perception_type or "fast",
    )
    if isinstance(observation, bytes):  # already the JSON answer, built once in the worker
        return HttpResponse(observation, content_type="application/json")
    return observation


@router.post("/{session_id}/page/execute", response=ExecutionResult, operation_id="pageExecute")
async def execute(request: HttpRequest, session_id: str, action: Body[Action]):
    """The body is the action itself (not wrapped), as Notte clients send it."""
    return await page_services.execute(
        team=request.auth.team, session_id=session_id, action=action_echo(action)
    )


@router.post("/{session_id}/page/scrape", response=DataSpace, operation_id="pageScrape")
async def scrape(request: HttpRequest, session_id: str, body: ScrapeRequest | None = None):
    options = (body or ScrapeRequest()).model_dump()
    return await page_services.scrape(
        team=request.auth.team, session_id=session_id, options=options
    )


IMAGE = {"schema": {"type": "string", "format": "binary"}}


# The answer is the image itself, not JSON: no response schema, the OpenAPI says so by hand.
@router.post(
    "/{session_id}/page/screenshot",
    operation_id="pageScreenshot",
    openapi_extra={
        "responses": {
            200: {
                "description": "The image, PNG or JPEG as the body's type asks",
                "content": {"image/png": IMAGE, "image/jpeg": IMAGE},
            }
        }
    },
)
async def screenshot(request: HttpRequest, session_id: str, body: ScreenshotRequest | None = None):
    body = body or ScreenshotRequest()
    image = await page_services.screenshot(
        team=request.auth.team,
        session_id=session_id,
        image_type=body.type,
        quality=body.quality,
        full_page=body.full_page,
    )
    return HttpResponse(image, content_type=f"image/{body.type}")
