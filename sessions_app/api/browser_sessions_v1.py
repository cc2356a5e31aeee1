"""The v1 browser-sessions resource: the same sessions, with its own shapes and defaults."""

from django.http import HttpRequest
from ninja import Query, Router

from sessions_app import selectors, services
from sessions_app.schemas import BrowserSessionCreateRequest, BrowserSessionResponse, V1ListQuery
from sessions_app.start_options import build_start_options
from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

router = Router(tags=["Browser sessions (v1)"], auth=ApiKeyAuth(scope=Scope.SESSIONS))


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
    session = await services.session_start(
        team=request.auth.team, options=options, api_key=request.auth
    )
    return BrowserSessionResponse.from_session(session)


@router.get("/", response=list[BrowserSessionResponse], operation_id="listBrowserSessions")
async def list_(request: HttpRequest, query: Query[V1ListQuery]):
    sessions = await selectors.asession_page_for_team(
        team=request.auth.team,
        only_active=query.only_active,
        page=query.page,
        page_size=query.page_size,
    )
    return [BrowserSessionResponse.from_session(s) for s in sessions]


@router.get("/{session_id}", response=BrowserSessionResponse, operation_id="getBrowserSession")
async def get(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    return BrowserSessionResponse.from_session(session)


@router.delete(
    "/{session_id}", response=BrowserSessionResponse, operation_id="deleteBrowserSession"
)
async def delete(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    if session.is_live:
        session = await services.session_stop(session=session, api_key=request.auth)
    return BrowserSessionResponse.from_session(session)
