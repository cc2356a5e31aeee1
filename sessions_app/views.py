"""Console pages for sessions. Thin: check access, call a selector or service, render."""

import contextlib

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.errors import NotFound, PeriscopeError
from core.http import PublicUrls, htmx_partial, vary_on_htmx
from teams_app.models import Membership

from . import replays, selectors, services
from .forms import StartSessionForm
from .models import SessionStatus
from .schemas import SessionDebugResponse
from .start_options import build_start_options


def _membership(request: HttpRequest) -> Membership:
    membership = request.membership.get()
    if membership is None:
        raise PermissionDenied("You are not a member of any team yet; ask a team owner to add you")
    return membership


def _operator(request: HttpRequest) -> Membership:
    membership = _membership(request)
    if not membership.can_operate:
        raise PermissionDenied("Viewers cannot start or stop sessions")
    return membership


def _list_context(request: HttpRequest, membership: Membership, form=None, error: str = "") -> dict:
    status = request.GET.get("status") or ""
    if status not in SessionStatus.values:
        status = ""
    return {
        "sessions": list(selectors.session_list_for_team(team=membership.team, status=status or None)[:100]),
        "status_filter": status,
        "statuses": SessionStatus.choices,
        "form": form or StartSessionForm(),
        "start_error": error,
        "can_operate": membership.can_operate,
    }


@login_required
@require_GET
@vary_on_htmx
def session_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    template = "sessions_app/list.html"
    if htmx_partial(request):
        template += "#session-table"
    return render(request, template, _list_context(request, membership))


@login_required
@require_POST
async def session_start(request: HttpRequest) -> HttpResponse:
    membership = await sync_to_async(_operator)(request)
    form = StartSessionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            options = build_start_options(form.cleaned_data)
            await services.session_start(team=membership.team, options=options, user=await request.auser())
            form = None
        except PeriscopeError as exc:
            error = exc.message
    if not request.htmx:
        return redirect("sessions_app:list")
    context = await sync_to_async(_list_context)(request, membership, form, error)
    response = render(request, "sessions_app/list.html#sessions-panel", context)
    return response


@login_required
@require_GET
@vary_on_htmx
def session_detail(request: HttpRequest, session_id) -> HttpResponse:
    membership = _membership(request)
    try:
        session = selectors.session_get_for_team(team=membership.team, session_id=session_id)
    except NotFound:
        raise Http404("No such session in this team") from None
    context = {
        "session": session,
        "events": selectors.session_events(session=session),
        "steps": selectors.session_steps(session=session),
        "debug": SessionDebugResponse.from_session(session, PublicUrls.for_request(request), tabs=[]),
        "can_operate": membership.can_operate,
    }
    template = "sessions_app/detail.html"
    if htmx_partial(request):
        template += "#session-summary"
    return render(request, template, context)


@login_required
@require_POST
async def session_stop(request: HttpRequest, session_id) -> HttpResponse:
    membership = await sync_to_async(_operator)(request)
    try:
        session = await selectors.asession_get_for_team(team=membership.team, session_id=str(session_id))
    except NotFound:
        raise Http404("No such session in this team") from None
    # An already-ended session raises; the page shows how it ended either way.
    with contextlib.suppress(PeriscopeError):
        await services.session_stop(session=session, user=await request.auser())
    if request.htmx and request.POST.get("from") == "list":
        context = await sync_to_async(_list_context)(request, membership)
        return render(request, "sessions_app/list.html#session-table", context)
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
