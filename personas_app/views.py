"""Console pages for personas. Viewers read; everyone else may also create and delete."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.errors import NotFound, PeriscopeError
from core.http import htmx_partial, vary_on_htmx
from teams_app.console_access import current_membership, current_operator
from teams_app.models import Membership

from . import selectors, services
from .forms import PersonaCreateForm
from .highlight import highlight, mail_srcdoc
from .models import Persona, PersonaStatus

FRAGMENTS = {"inbox": "#inbox", "sms": "#sms-list"}


def _operator(request: HttpRequest) -> Membership:
    return current_operator(request, refusal="Viewers cannot create or delete personas")


def _persona(membership: Membership, persona_id) -> Persona:
    try:
        return selectors.persona_get_for_team(team=membership.team, persona_id=persona_id)
    except NotFound:
        raise Http404("No such persona in this team") from None


@login_required
@require_GET
def persona_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    show_deleted = request.GET.get("status") == PersonaStatus.CLOSED
    personas = selectors.persona_list_for_team(team=membership.team, only_active=not show_deleted)
    if show_deleted:
        personas = personas.filter(status=PersonaStatus.CLOSED)
    return render(
        request,
        "personas_app/list.html",
        {
            "personas": list(personas[:200]),
            "show_deleted": show_deleted,
            "form": PersonaCreateForm(),
            "can_operate": membership.can_operate,
            "has_number_pool": bool(settings.PERISCOPE_SMS_NUMBERS),
            "mail_domain": settings.PERISCOPE_MAIL_DOMAIN,
        },
    )


@login_required
@require_POST
def persona_create(request: HttpRequest) -> HttpResponse:
    membership = _operator(request)
    form = PersonaCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The form was not understood; try again")
        return redirect("personas_app:list")
    try:
        persona = services.persona_create(
            team=membership.team,
            create_phone_number=form.cleaned_data["with_phone_number"],
            user=request.user,
        )
    except PeriscopeError as exc:
        messages.error(request, exc.message)
        return redirect("personas_app:list")
    messages.success(
        request, f"Created {persona.full_name}. Mail sent to {persona.email} shows up below."
    )
    return redirect("personas_app:detail", persona_id=persona.pk)


@login_required
@require_GET
@vary_on_htmx
def persona_detail(request: HttpRequest, persona_id) -> HttpResponse:
    membership = current_membership(request)
    persona = _persona(membership, persona_id)
    context = {
        "persona": persona,
        "emails": selectors.email_list_for_persona(persona=persona),
        "sms_messages": [
            (sms, highlight(sms.body, sms.codes))
            for sms in selectors.sms_list_for_persona(persona=persona)
        ],
        "can_operate": membership.can_operate,
        "has_number_pool": bool(settings.PERISCOPE_SMS_NUMBERS),
    }
    template = "personas_app/detail.html"
    fragment = FRAGMENTS.get(request.GET.get("fragment", ""))
    if fragment and htmx_partial(request):
        template += fragment
    return render(request, template, context)


@login_required
@require_POST
def persona_delete(request: HttpRequest, persona_id) -> HttpResponse:
    persona = _persona(_operator(request), persona_id)
    if services.persona_delete(persona=persona):
        messages.success(request, f"Deleted {persona.full_name}, with its mail and SMS.")
    return redirect("personas_app:list")


@login_required
@require_POST
def persona_number(request: HttpRequest, persona_id) -> HttpResponse:
    persona = _persona(_operator(request), persona_id)
    try:
        if request.POST.get("action") == "release":
            number = services.persona_number_release(persona=persona)
            if number:
                messages.success(request, f"{number} went back to the pool.")
        else:
            number, _ = services.persona_number_assign(persona=persona)
            messages.success(request, f"{persona.full_name} now has the number {number}.")
    except PeriscopeError as exc:
        messages.error(request, exc.message)
    return redirect("personas_app:detail", persona_id=persona.pk)


@login_required
@require_GET
def email_detail(request: HttpRequest, persona_id, email_id) -> HttpResponse:
    persona = _persona(current_membership(request), persona_id)
    try:
        email = selectors.email_get_for_persona(persona=persona, email_id=email_id)
    except NotFound:
        raise Http404("No such message") from None
    view = request.GET.get("view", "")
    show_html = bool(email.html_content) and view != "text"
    return render(
        request,
        "personas_app/email.html",
        {
            "persona": persona,
            "email": email,
            "show_html": show_html,
            "srcdoc": mail_srcdoc(email.html_content) if show_html else "",
            "text": highlight(email.text_content, email.codes),
            "other_links": [link for link in email.links if not link.get("verification")],
        },
    )
