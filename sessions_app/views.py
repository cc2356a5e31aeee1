"""Console pages for sessions. Thin: check access, call a selector or service, render."""

import contextlib

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.csp import CSP
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.errors import NotFound, PeriscopeError
from core.http import PublicUrls, htmx_partial, vary_on_htmx
from teams_app.console_access import current_membership, current_operator
from teams_app.models import Membership

from . import control, replays, selectors, services
from .forms import StartSessionForm
from .models import SessionStatus
from .schemas import SessionDebugResponse
from .start_options import build_start_options
from .viewer_links import viewer_grant


def _operator(request: HttpRequest) -> Membership:
    return current_operator(request, refusal="Viewers cannot start or stop sessions")


def _list_context(request: HttpRequest, membership: Membership, form=None, error: str = "") -> dict:
    status = request.GET.get("status") or ""
    if status not in SessionStatus.values:
        status = ""
    return {
        "sessions": list(
            selectors.session_list_for_team(team=membership.team, status=status or None)[:100]
        ),
        "status_filter": status,
        "statuses": SessionStatus.choices,
        "form": form or StartSessionForm(),
        "start_error": error,
        "can_operate": membership.can_operate,
    }


LIVE_THUMBNAILS = 24


@login_required
@require_GET
@vary_on_htmx
def session_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    context = _list_context(request, membership)
    if htmx_partial(request):
        return render(request, "sessions_app/list.html#session-rows", context)
    live = selectors.session_list_for_team(team=membership.team, only_active=True)[:LIVE_THUMBNAILS]
    return render(request, "sessions_app/list.html", {**context, "live_sessions": list(live)})


@login_required
@require_POST
async def session_start(request: HttpRequest) -> HttpResponse:
    membership = await sync_to_async(_operator)(request)
    form = StartSessionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            options = build_start_options(form.cleaned_data)
            await services.session_start(
                team=membership.team, options=options, user=await request.auser()
            )
            form = None
        except PeriscopeError as exc:
            error = exc.message
    if not request.htmx:
        return redirect("sessions_app:list")
    context = await sync_to_async(_list_context)(request, membership, form, error)
    response = render(request, "sessions_app/list.html#sessions-panel", context)
    return response


# The session page's fragments, refreshed by htmx when the live view reports a change: "body"
# (header, details, timeline, steps) and "media" (the live view, or the replay once it ended).
DETAIL_FRAGMENTS = {"body": "session-refresh", "media": "session-media"}


@login_required
@require_GET
@vary_on_htmx
def session_detail(request: HttpRequest, session_id) -> HttpResponse:
    membership = current_membership(request)
    try:
        session = selectors.session_get_for_team(team=membership.team, session_id=session_id)
    except NotFound:
        raise Http404("No such session in this team") from None
    fragment = (
        DETAIL_FRAGMENTS.get(request.GET.get("fragment", "")) if htmx_partial(request) else None
    )
    context = {
        "session": session,
        "can_operate": membership.can_operate,
        "can_take_over": membership.can_manage_team,
        "oob": fragment == DETAIL_FRAGMENTS["body"],
    }
    if fragment != DETAIL_FRAGMENTS["media"]:
        context |= {
            "events": selectors.session_events(session=session),
            "steps": selectors.session_steps(session=session),
        }
    if fragment != DETAIL_FRAGMENTS["body"]:
        context |= {
            "control": selectors.control_of(session=session) if session.is_live else None,
            "lease_seconds": settings.PERISCOPE_CONTROL_LEASE_SECONDS,
            "replay": replays.replay_for_console(session=session),
            "shots": [] if session.is_live else selectors.steps_with_screenshots(session=session),
        }
    if fragment is None:
        context["debug"] = SessionDebugResponse.from_session(
            session,
            PublicUrls.for_request(request),
            tabs=[],
            user=request.user if membership.can_operate else None,
        )
    template = "sessions_app/detail.html" + (f"#{fragment}" if fragment else "")
    return render(request, template, context)


@login_required
@require_POST
async def session_stop(request: HttpRequest, session_id) -> HttpResponse:
    membership = await sync_to_async(_operator)(request)
    try:
        session = await selectors.asession_get_for_team(
            team=membership.team, session_id=str(session_id)
        )
    except NotFound:
        raise Http404("No such session in this team") from None
    # An already-ended session raises; the page shows how it ended either way.
    with contextlib.suppress(PeriscopeError):
        await services.session_stop(session=session, user=await request.auser())
    if request.htmx and request.POST.get("from") == "list":
        context = await sync_to_async(_list_context)(request, membership)
        return render(request, "sessions_app/list.html#session-rows", context)
    if request.htmx:
        # The session page refreshes its fragments on this event, as when the live view says so.
        return HttpResponse(status=200, headers={"HX-Trigger": "live-ended"})
    return redirect("sessions_app:detail", session_id=session_id)


@require_GET
def replay_file(request: HttpRequest, token: str) -> FileResponse:
    """A replay by signed, expiring URL: the Notte client downloads mp4_url with a plain GET."""
    found = replays.replay_file_for_token(token)
    if found is None:
        raise Http404("This replay link is invalid or has expired; ask the API for a new one")
    path, kind = found
    content_type = "video/mp4" if kind == "mp4" else "image/webp"
    response = FileResponse(default_storage.open(path, "rb"), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="replay.{kind}"'
    return response


CONTROL_ACTIONS = {"take": control.acontrol_take, "takeover": control.acontrol_takeover}


@login_required
@require_POST
async def session_control(request: HttpRequest, session_id, action: str) -> JsonResponse:
    """Take, take over or release control of the page (the live view's buttons)."""
    membership = await sync_to_async(current_membership)(request)
    try:
        session = await selectors.asession_get_for_team(
            team=membership.team, session_id=str(session_id)
        )
    except NotFound:
        raise Http404("No such session in this team") from None
    try:
        if action == "release":
            await control.acontrol_release(session=session, user=await request.auser())
            lease = None
        elif action in CONTROL_ACTIONS:
            lease = await CONTROL_ACTIONS[action](session=session, membership=membership)
        else:
            raise Http404("No such control action")
    except PeriscopeError as exc:
        return JsonResponse({"message": exc.message}, status=exc.status)
    return JsonResponse(
        {"holder": lease.holder_label if lease else None, "you_hold_control": lease is not None}
    )


@login_required
@require_GET
def step_screenshot(request: HttpRequest, session_id, index: int) -> FileResponse:
    membership = current_membership(request)
    step = selectors.step_for_team(team=membership.team, session_id=session_id, index=index)
    if step is None or not step.screenshot:
        raise Http404("No screenshot for that step")
    response = FileResponse(step.screenshot.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
@xframe_options_exempt
def viewer(request: HttpRequest, token: str) -> HttpResponse:
    """A viewer link's page: one session live, nothing else, fit for an iframe."""
    grant = viewer_grant(token)
    session = selectors.session_for_grant(grant) if grant else None
    if session is None or not session.is_live:
        raise Http404("This viewer link is invalid, has expired, or its session has ended")
    interactive = grant.interactive and request.GET.get("interactive", "1") != "0"
    response = render(
        request,
        "sessions_app/viewer.html",
        {"session": session, "token": token, "interactive": interactive},
    )
    # The console's policy, but with the pages the operator lets embed the viewer.
    response._csp_config = {
        **settings.SECURE_CSP,
        "frame-ancestors": settings.PERISCOPE_VIEWER_FRAME_ANCESTORS or [CSP.NONE],
    }
    return response


@csrf_exempt  # the signed token in the URL is the credential, not a cookie: nothing to forge
@require_POST
async def viewer_control(request: HttpRequest, token: str, action: str) -> JsonResponse:
    """An interactive viewer link takes or releases control (its bearer is an API key holder's
    delegate: the link was handed out to drive the session)."""
    grant = viewer_grant(token)
    session = (
        await selectors.asession_for_team_id(team_id=grant.team_id, session_id=grant.session_id)
        if grant and grant.interactive
        else None
    )
    if session is None or not session.is_live:
        raise Http404("This viewer link cannot take control")
    try:
        if action == "take":
            lease = await control.acontrol_take_by_link(session=session)
        elif action == "release":
            await control.acontrol_release_by_link(session=session)
            lease = None
        else:
            raise Http404("No such control action")
    except PeriscopeError as exc:
        return JsonResponse({"message": exc.message}, status=exc.status)
    return JsonResponse(
        {"holder": lease.holder_label if lease else None, "you_hold_control": lease is not None}
    )


@login_required
@require_GET
def sessions_of_persona(request: HttpRequest, persona_id) -> HttpResponse:
    """The sessions that read a persona's mail (a fragment the persona's page loads)."""
    membership = current_membership(request)
    sessions = selectors.session_list_for_persona(team=membership.team, persona_id=str(persona_id))
    return render(request, "sessions_app/_sessions_of_persona.html", {"sessions": sessions})
