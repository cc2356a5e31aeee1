"""Console pages for agents. Thin: check access, call a selector or service, render.

Another team's run answers 404 like an unknown one. Viewers see everything but start, stop,
approve and reject nothing: the buttons are absent and the POSTs refused (403).
"""

import contextlib

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.errors import InvalidInput, NotFound, PeriscopeError
from core.http import htmx_partial, vary_on_htmx
from sessions_app import selectors as session_selectors
from teams_app.console_access import current_membership, current_operator
from teams_app.models import Membership

from . import console_selectors, selectors, services
from .forms import NewAgentForm
from .models import AgentRun, AgentState
from .schemas import AgentStartRequest

# A service's field name -> the form's, so a refusal lands on the input it is about.
FORM_FIELDS = {
    "task": "task",
    "url": "url",
    "session_id": "session",
    "vault_id": "vault",
    "persona_id": "persona",
    "max_steps": "max_steps",
    "response_format": "response_format",
}
# The run page's fragments, fetched by htmx: "refresh" (the steps, with the head, banner and
# outcome out of band) when the session's socket reports a change, "media" when the session ends.
DETAIL_FRAGMENTS = {"refresh": "run-refresh", "media": "run-media"}


def _operator(request: HttpRequest) -> Membership:
    return current_operator(request, refusal="Viewers cannot start, stop, approve or reject agents")


def _run(membership: Membership, agent_id) -> AgentRun:
    try:
        return selectors.agent_get_for_team(team=membership.team, agent_id=agent_id)
    except NotFound:
        raise Http404("No such agent in this team") from None


# -- the list and "New agent" -------------------------------------------------------------------


def _new_agent_form(membership: Membership, data=None) -> NewAgentForm:
    team = membership.team
    return NewAgentForm(
        data,
        sessions=console_selectors.active_sessions_for_new_agent(team=team),
        vaults=console_selectors.vaults_for_new_agent(team=team),
        personas=console_selectors.personas_for_new_agent(team=team),
    )


def _filters(request: HttpRequest) -> tuple[str, str]:
    status = request.GET.get("status", "")
    success = request.GET.get("success", "")
    valid_status = {value for value, _ in console_selectors.STATUS_FILTERS}
    valid_success = {value for value, _ in console_selectors.SUCCESS_FILTERS}
    return (status if status in valid_status else "", success if success in valid_success else "")


def _list_context(request: HttpRequest, membership: Membership, form=None, error: str = "") -> dict:
    status, success = _filters(request)
    runs = console_selectors.run_rows_for_team(team=membership.team, status=status, success=success)
    titles = {"active": "Active agents", "closed": "Closed agents"}
    context = {
        "runs": runs,
        "any_active": any(run.is_open for run in runs),
        "status_filter": status,
        "success_filter": success,
        "status_filters": console_selectors.STATUS_FILTERS,
        "success_filters": console_selectors.SUCCESS_FILTERS,
        "list_title": titles.get(status, "All agents"),
        "can_operate": membership.can_operate,
        "start_error": error,
    }
    if membership.can_operate:
        context["form"] = form or _new_agent_form(membership)
    return context


@login_required
@require_GET
@vary_on_htmx
def agent_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    context = _list_context(request, membership)
    if htmx_partial(request) and request.GET.get("fragment") == "rows":
        return render(request, "agents_app/list.html#agent-rows", context)
    return render(request, "agents_app/list.html", context)


def _start_request(data: dict) -> AgentStartRequest:
    return AgentStartRequest(
        task=data["task"],
        url=data["url"] or None,
        response_format=data["response_format"],
        use_vision=data["use_vision"],
        max_steps=data["max_steps"],
        session_id=data["session"] or None,
        vault_id=data["vault"] or None,
        persona_id=data["persona"] or None,
        # Empty: the model the server is configured with (the SDK always names one of its own).
        reasoning_model="",
    )


@login_required
@require_POST
async def agent_start(request: HttpRequest) -> HttpResponse:
    membership = await sync_to_async(_operator)(request)
    form = await sync_to_async(_new_agent_form)(membership, request.POST)
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            session = None
            if data["session"]:
                session = await session_selectors.asession_get_for_team(
                    team=membership.team, session_id=data["session"]
                )
            run = await services.agent_start(
                team=membership.team,
                session_or_none=session,
                options=_start_request(data),
                user=await request.auser(),
            )
            if request.htmx:
                # A full page load, not a boosted swap: the run page brings its own scripts.
                return HttpResponse(
                    headers={"HX-Redirect": reverse("agents_app:detail", args=[run.id])}
                )
            return redirect("agents_app:detail", agent_id=run.id)
        except InvalidInput as exc:
            name = FORM_FIELDS.get(exc.field.rsplit(".", 1)[-1])
            if name in form.fields:
                form.add_error(name, exc.detail[0]["msg"])
            else:
                error = exc.message
        except PeriscopeError as exc:
            error = exc.message
    # Rendered with 200 so a boosted form swaps it in: the errors show on the page.
    # The whole page (nav, team switcher) reads the database: rendered in a thread.
    return await sync_to_async(_render_list)(request, membership, form, error)


def _render_list(request: HttpRequest, membership: Membership, form, error: str) -> HttpResponse:
    return render(request, "agents_app/list.html", _list_context(request, membership, form, error))


# -- one run ------------------------------------------------------------------------------------


def _detail_context(
    request: HttpRequest, membership: Membership, run: AgentRun, fragment: str | None
) -> dict:
    session = run.session
    page = console_selectors.run_page(run=run)
    run.duration = page.duration
    context = {
        "run": run,
        "session": session,
        "steps": page.steps,
        "shot_indexes": page.shot_indexes,
        "total_tokens": page.total_tokens,
        "llm_seconds": page.llm_seconds,
        "can_operate": membership.can_operate,
        "can_take_over": membership.can_manage_team,
        "oob": fragment == DETAIL_FRAGMENTS["refresh"],
        "control": session_selectors.control_of(session=session) if session.is_live else None,
        "help_reason": _help_reason(page.steps) if run.state == AgentState.NEEDS_PERSON else "",
    }
    if fragment != DETAIL_FRAGMENTS["refresh"]:
        context |= {
            "lease_seconds": settings.PERISCOPE_CONTROL_LEASE_SECONDS,
            "last_shot": None
            if session.is_live
            else console_selectors.last_screenshot_step(session=session),
        }
    if not run.is_open:
        context |= _outcome(run)
    if fragment is None:
        context |= {
            "vault_name": console_selectors.vault_label(
                team=membership.team, vault_id=run.vault_id
            ),
            "persona_label": console_selectors.persona_label(
                team=membership.team, persona_id=run.persona_id
            ),
            "schema_json": console_selectors.pretty_json(run.response_format)
            if run.response_format
            else "",
        }
    return context


def _help_reason(steps) -> str:
    """What the agent said when it asked for a person (its last `help` action)."""
    for step in reversed(steps):
        if step.action.get("type") == "help":
            return str(step.action.get("reason") or "")
    return ""


def _outcome(run: AgentRun) -> dict:
    script, script_error = "", ""
    try:
        script = console_selectors.run_script(run=run)
    except PeriscopeError as exc:
        script_error = exc.message
    structured = run.structured_answer
    return {
        "script": script,
        "script_error": script_error,
        "structured_json": console_selectors.pretty_json(structured)
        if structured is not None
        else "",
    }


@login_required
@require_GET
@vary_on_htmx
def agent_detail(request: HttpRequest, agent_id) -> HttpResponse:
    membership = current_membership(request)
    run = _run(membership, agent_id)
    fragment = (
        DETAIL_FRAGMENTS.get(request.GET.get("fragment", "")) if htmx_partial(request) else None
    )
    context = _detail_context(request, membership, run, fragment)
    template = "agents_app/detail.html" + (f"#{fragment}" if fragment else "")
    return render(request, template, context)


def _after_action(request: HttpRequest, run: AgentRun, *, from_list: bool = False) -> HttpResponse:
    if request.htmx:
        # The run page refreshes its fragments on this event, as when the live view says so.
        return HttpResponse(status=200, headers={"HX-Trigger": "live-changed"})
    if from_list:
        return redirect("agents_app:list")
    return redirect("agents_app:detail", agent_id=run.id)


@login_required
@require_POST
async def agent_stop(request: HttpRequest, agent_id) -> HttpResponse:
    membership = await sync_to_async(_operator)(request)
    run = await sync_to_async(_run)(membership, agent_id)
    # An already-closed run raises; the page shows how it ended either way.
    with contextlib.suppress(PeriscopeError):
        await services.agent_stop(run=run, user=await request.auser())
    return _after_action(request, run, from_list=request.POST.get("next") == "list")


@login_required
@require_POST
def agent_decide(request: HttpRequest, agent_id) -> HttpResponse:
    membership = _operator(request)
    run = _run(membership, agent_id)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        return HttpResponse("Send decision=approve or decision=reject", status=400)
    try:
        services.agent_decide(run=run, user=request.user, approve=decision == "approve")
    except PeriscopeError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
    return _after_action(request, run)


@login_required
@require_GET
def agent_script(request: HttpRequest, agent_id) -> HttpResponse:
    """The run's replay script as a .py download (the notte-sdk version with ?as_workflow=1)."""
    membership = current_membership(request)
    run = _run(membership, agent_id)
    as_workflow = request.GET.get("as_workflow") in ("1", "true", "True")
    try:
        script = console_selectors.run_script(run=run, as_workflow=as_workflow)
    except PeriscopeError as exc:
        return HttpResponse(
            exc.message, status=exc.status, content_type="text/plain; charset=utf-8"
        )
    name = f"agent-{str(run.id)[:8]}{'-workflow' if as_workflow else ''}.py"
    response = HttpResponse(script, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
