"""The Notte sessions resource: start, list, status, stop, debug, replay, offset, cookies."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from ninja import Query, Router

from core.http import PublicUrls
from sessions_app import replays, selectors, services
from sessions_app.cdp_access import cdp_url
from sessions_app.schemas import (
    GetCookiesResponse,
    ListQuery,
    OffsetResponse,
    ReplayResponse,
    SessionDebugResponse,
    SessionResponse,
    SessionStartRequest,
    SetCookiesRequest,
    SetCookiesResponse,
    TabDebugResponse,
)
from sessions_app.start_options import build_start_options
from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

router = Router(tags=["Sessions"], auth=ApiKeyAuth(scope=Scope.SESSIONS))


@router.post("/start", response=SessionResponse, operation_id="sessionStart")
async def session_start(request: HttpRequest, body: SessionStartRequest | None = None):
    options = build_start_options((body or SessionStartRequest()).model_dump())
    session = await services.session_start(
        team=request.auth.team, options=options, api_key=request.auth
    )
    return SessionResponse.from_session(
        session, PublicUrls.for_request(request), api_key=request.auth
    )


async def _list(request: HttpRequest, query: ListQuery):
    sessions = await selectors.asession_page_for_team(
        team=request.auth.team,
        only_active=query.only_active,
        page=query.page,
        page_size=query.page_size,
    )
    urls = PublicUrls.for_request(request)
    return [SessionResponse.from_session(s, urls, api_key=request.auth) for s in sessions]


@router.get("/", response=list[SessionResponse], operation_id="listSessions")
async def session_list(request: HttpRequest, query: Query[ListQuery]):
    return await _list(request, query)


@router.get("", response=list[SessionResponse], include_in_schema=False)
async def session_list_no_slash(request: HttpRequest, query: Query[ListQuery]):
    return await _list(request, query)


@router.get("/{session_id}", response=SessionResponse, operation_id="sessionStatus")
async def session_status(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    await services.session_sync(session=session)
    steps = await sync_to_async(selectors.session_steps)(session=session)
    return SessionResponse.from_session(
        session, PublicUrls.for_request(request), steps, api_key=request.auth
    )


@router.delete("/{session_id}/stop", response=SessionResponse, operation_id="sessionStop")
async def session_stop(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    session = await services.session_stop(session=session, api_key=request.auth)
    return SessionResponse.from_session(
        session, PublicUrls.for_request(request), api_key=request.auth
    )


@router.get("/{session_id}/replay", response=ReplayResponse, operation_id="sessionReplay")
async def session_replay(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    files = await replays.replay_ready(session=session)
    links = replays.replay_links(
        session=session, files=files, base=PublicUrls.for_request(request).http
    )
    return ReplayResponse(
        mp4_url=links.mp4_url,
        webp_url=links.webp_url,
        expires_at=links.expires_at,
        video_duration_ms=files.duration_ms,
        frames=files.frames,
    )


@router.get("/{session_id}/offset", response=OffsetResponse, operation_id="sessionOffset")
async def session_offset(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    return OffsetResponse(
        offset=await sync_to_async(selectors.step_count)(session_id=str(session.id))
    )


@router.get("/{session_id}/debug", response=SessionDebugResponse, operation_id="sessionDebugInfo")
async def session_debug(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    tabs = await services.session_tabs(session=session)
    return SessionDebugResponse.from_session(
        session, PublicUrls.for_request(request), tabs, api_key=request.auth
    )


@router.get(
    "/{session_id}/debug/tab", response=TabDebugResponse, operation_id="sessionDebugTabInfo"
)
async def session_debug_tab(request: HttpRequest, session_id: str, tab_idx: int = 0):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    tab = await services.session_tab(session=session, tab_idx=tab_idx)
    urls = PublicUrls.for_request(request)
    return TabDebugResponse.from_tab(
        session, urls, tab, cdp=cdp_url(session, urls, api_key=request.auth)
    )


@router.get(
    "/{session_id}/cookies",
    response=GetCookiesResponse,
    exclude_none=True,
    operation_id="sessionCookiesGet",
)
async def session_cookies_get(request: HttpRequest, session_id: str):
    cookies = await services.session_cookies_get(
        team=request.auth.team, session_id=session_id, api_key=request.auth
    )
    return GetCookiesResponse(cookies=cookies)


@router.post("/{session_id}/cookies", response=SetCookiesResponse, operation_id="sessionCookiesSet")
async def session_cookies_set(request: HttpRequest, session_id: str, body: SetCookiesRequest):
    count = await services.session_cookies_set(
        team=request.auth.team, session_id=session_id, cookies=body.cookies
    )
    return SetCookiesResponse(success=True, message=f"{count} cookie(s) set")
