"""Team page: members and roles, API keys, audit log. Owners and admins manage; others read."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.errors import PeriscopeError

from . import selectors, services
from .console_access import current_membership
from .forms import AddMemberForm, ApiKeyForm, RoleForm
from .middleware import SESSION_KEY
from .models import ApiKey, Membership


def login_locked_out(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """What a throttled sign-in sees (django-axes calls this instead of the login page)."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "registration/locked_out.html", context, status=429)


def _context(membership: Membership, **extra) -> dict:
    return {
        "members": selectors.membership_list_for_team(team=membership.team),
        "api_keys": selectors.api_key_list_for_team(team=membership.team),
        "audit": selectors.audit_list_for_team(team=membership.team),
        "can_manage": membership.can_manage_team,
        "add_member_form": AddMemberForm(),
        "key_form": ApiKeyForm(),
        "role_choices": RoleForm.base_fields["role"].choices,
        **extra,
    }


@login_required
@require_GET
def team_detail(request: HttpRequest) -> HttpResponse:
    return render(request, "teams_app/detail.html", _context(current_membership(request)))


@login_required
@require_POST
def team_switch(request: HttpRequest) -> HttpResponse:
    membership = selectors.membership_get(user=request.user, team_id=None)
    chosen = (
        selectors.membership_list_for_user(user=request.user)
        .filter(team_id=request.POST.get("team_id"))
        .first()
    )
    if chosen is None and membership is None:
        raise PermissionDenied("You are not a member of that team")
    request.session[SESSION_KEY] = str((chosen or membership).team_id)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "sessions_app:list"  # only same-site paths: never an open redirect
    return redirect(next_url)


def _run(request: HttpRequest, action) -> None:
    try:
        action()
    except PeriscopeError as exc:
        messages.error(request, exc.message)


@login_required
@require_POST
def member_add(request: HttpRequest) -> HttpResponse:
    actor = current_membership(request)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        _run(request, lambda: services.membership_add(actor=actor, **form.cleaned_data))
    else:
        messages.error(request, "Give a username and a role")
    return redirect("teams_app:detail")


@login_required
@require_POST
def member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    actor = current_membership(request)
    target = get_object_or_404(Membership, pk=membership_id, team=actor.team)
    form = RoleForm(request.POST)
    if form.is_valid():
        _run(
            request,
            lambda: services.membership_set_role(
                actor=actor, membership=target, role=form.cleaned_data["role"]
            ),
        )
    return redirect("teams_app:detail")


@login_required
@require_POST
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    actor = current_membership(request)
    target = get_object_or_404(Membership, pk=membership_id, team=actor.team)
    _run(request, lambda: services.membership_remove(actor=actor, membership=target))
    return redirect("teams_app:detail")


@login_required
@require_POST
def team_agent_approval(request: HttpRequest) -> HttpResponse:
    actor = current_membership(request)
    required = request.POST.get("required") == "on"
    _run(request, lambda: services.team_set_agent_approval(actor=actor, required=required))
    return redirect("teams_app:detail")


@login_required
@require_POST
def key_create(request: HttpRequest) -> HttpResponse:
    actor = current_membership(request)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            _, raw = services.api_key_create(
                team=actor.team,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=actor,
            )
            # The raw key travels in the redirect's URL fragment, which browsers never send to a
            # server: the page's script shows it once and drops it. Nothing stores it here, and
            # a refresh neither re-submits the form nor shows the key again.
            return HttpResponseRedirect(reverse("teams_app:detail") + f"#new-key={raw}")
        except PeriscopeError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Give the key a name and at least one scope")
    return redirect("teams_app:detail")


@login_required
@require_POST
def key_revoke(request: HttpRequest, key_id) -> HttpResponse:
    actor = current_membership(request)
    key = get_object_or_404(ApiKey, pk=key_id, team=actor.team)
    _run(request, lambda: services.api_key_revoke(actor=actor, api_key=key))
    return redirect("teams_app:detail")
