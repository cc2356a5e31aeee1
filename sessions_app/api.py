"""The Notte sessions API (notte-api-contract.md §3): parse, call a service or selector, answer."""

from asgiref.sync import sync_to_async
from django.core.files.storage import default_storage
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema

from core.errors import InvalidInput, NotFound
from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

from . import replay, selectors, services
from .presenters import (
    base_url,
    cookie_from_browser,
    cookie_to_browser,
    session_debug_to_wire,
    session_to_wire,
    tab_debug_to_wire,
)
from .schemas import (
    GetCookiesResponse,
    SessionDebugResponse,
    SessionResponse,
    SessionStartRequest,
    SetCookiesRequest,
    SetCookiesResponse,
)
from .start_options import build_start_options

router = Router(tags=["Sessions"], auth=ApiKeyAuth(scope=Scope.SESSIONS))


class ListQuery(Schema):
    only_active: bool = True
    page: int = 1
    page_size: int = 10


@router.post("/start", response=SessionResponse, operation_id="sessionStart")
async def session_start(request: HttpRequest, body: SessionStartRequest | None = None):
    options = build_start_options((body or SessionStartRequest()).model_dump(exclude_unset=False))
    key = request.auth
    session = await services.session_start(team=key.team, options=options, api_key=key)
    return session_to_wire(session, request)


async def _list(request: HttpRequest, query: ListQuery):
    sessions = await selectors.asession_page_for_team(
        team=request.auth.team, only_active=query.only_active, page=query.page, page_size=query.page_size
    )
    return [session_to_wire(s, request) for s in sessions]


@router.get("/", response=list[SessionResponse], operation_id="listSessions")
async def session_list(request: HttpRequest, query: Query[ListQuery]):
    return await _list(request, query)


@router.get("", response=list[SessionResponse], include_in_schema=False)
async def session_list_no_slash(request: HttpRequest, query: Query[ListQuery]):
    return await _list(request, query)


@router.get("/{session_id}", response=SessionResponse, operation_id="sessionStatus")
async def session_status(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    steps = await sync_to_async(selectors.session_steps)(session=session)
    return session_to_wire(session, request, steps)


@router.delete("/{session_id}/stop", response=SessionResponse, operation_id="sessionStop")
async def session_stop(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    session = await services.session_stop(session=session, api_key=request.auth)
    return session_to_wire(session, request)


@router.get("/{session_id}/replay", operation_id="sessionReplay")
async def session_replay(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    if session.is_live:
        raise NotFound(f"Session {session_id} is still active: stop it first, then ask for its replay")
    built = await sync_to_async(replay.replay_build, thread_sensitive=False)(session=session)
    if built is None:
        raise NotFound(f"Session {session_id} recorded no steps, so there is nothing to replay")
    urls = {kind: f"{base_url(request)}{reverse('replay_file', args=[replay.replay_token(session, kind)])}"
            for kind, path in replay.replay_paths(session).items() if await sync_to_async(default_storage.exists)(path)}
    return {
        "mp4_url": urls.get("mp4"),
        "webp_url": urls.get("webp"),
        "expires_at": timezone.now() + replay.URL_LIFETIME,
        "video_start_ms": 0,
        "video_duration_ms": built["duration_ms"],
        "frames": built["frames"],
    }


@router.get("/{session_id}/offset", operation_id="sessionOffset")
async def session_offset(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    return {"offset": await sync_to_async(services.step_count)(session_id=str(session.id))}


@router.get("/{session_id}/debug", response=SessionDebugResponse, operation_id="sessionDebugInfo")
async def session_debug(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    tabs = await services.session_command(session=session, command={"type": "session.tabs"}) if session.is_live else []
    return session_debug_to_wire(session, request, tabs)


@router.get("/{session_id}/debug/tab", operation_id="sessionDebugTabInfo")
async def session_debug_tab(request: HttpRequest, session_id: str, tab_idx: int = 0):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    tabs = await services.session_command(session=session, command={"type": "session.tabs"})
    if not 0 <= tab_idx < len(tabs):
        raise NotFound(f"Session {session_id} has no tab {tab_idx}; it has {len(tabs)} tab(s)")
    return tab_debug_to_wire(session, request, tabs[tab_idx])


@router.get("/{session_id}/cookies", response=GetCookiesResponse, operation_id="sessionCookiesGet")
async def session_cookies_get(request: HttpRequest, session_id: str):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    cookies = await services.session_command(session=session, command={"type": "session.cookies.get"})
    return {"cookies": [cookie_from_browser(c) for c in cookies]}


@router.post("/{session_id}/cookies", response=SetCookiesResponse, operation_id="sessionCookiesSet")
async def session_cookies_set(request: HttpRequest, session_id: str, body: SetCookiesRequest):
    session = await selectors.asession_get_for_team(team=request.auth.team, session_id=session_id)
    cookies = [c.model_dump() for c in body.cookies]
    for index, cookie in enumerate(cookies):
        if cookie.get("sameSite") == "None" and not cookie.get("secure"):
            raise InvalidInput(f"cookies.{index}.secure", "a cookie with sameSite None must be secure")
    await services.session_command(
        session=session, command={"type": "session.cookies.set", "cookies": [cookie_to_browser(c) for c in cookies]}
    )
    return {"success": True, "message": f"{len(cookies)} cookie(s) set"}
