"""The v1 browser-sessions API (api-docs/003): same sessions, its own shapes and defaults."""

from django.http import HttpRequest
from ninja import Query, Router, Schema

from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

from . import selectors, services
from .presenters import session_to_v1
from .schemas import BrowserSessionCreateRequest, BrowserSessionResponse
from .start_options import build_start_options

router = Router(tags=["Browser sessions (v1)"], auth=ApiKeyAuth(scope=Scope.SESSIONS))


class V1ListQuery(Schema):
    only_active: bool = False
    page: int = 1
    page_size: int = 50


@router.post("/", response=BrowserSessionResponse, operation_id="createBrowserSession")
async def create(request: HttpRequest, body: BrowserSessionCreateRequest | None = None):
    body = body or BrowserSessionCreateRequest()
    options = build_start_options(
        {
            "viewport_width": body.viewport_width or 1920,
            "viewport_height": body.viewport_height or 1080,
            "user_agent": body.user_agent,
        }
    )
    session = await services.session_start(team=request.auth.team, options=options, api_key=request.auth)
    return session_to_v1(session)


@router.get("/", response=list[BrowserSessionResponse], operation_id="listBrowserSessions")
async def list_(request: HttpRequest, query: Query[V1ListQuery]):
    sessions = await selectors.asession_page_for_team(
        team=request.auth.team, only_active=query.only_active, page=query.page, page_size=query.page_size
    )
    return [session_to_v1(s) for s in sessions]


@router.get("/{session_id}", response=BrowserSessionResponse, operation_id="getBrowserSession")
async def get(request: HttpRequest, session_id: str):
    return session_to_v1(await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id))


@router.delete("/{session_id}", response=BrowserSessionResponse, operation_id="deleteBrowserSession")
async def delete(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    if session.is_live:
        session = await services.session_stop(session=session, api_key=request.auth)
    return session_to_v1(session)
