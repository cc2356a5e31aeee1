"""Console pages for vaults. Thin: resolve the member and the vault, call a service, render.

Another team's vault answers 404 like an unknown one; a role that may not do something gets
403 (deny by default: every view names the permission it needs). Secret inputs are never
echoed back, and a revealed value is rendered once, in the answer to the reveal, never cached.
"""

import time
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Forbidden, InvalidInput, NotFound, PeriscopeError
from teams_app.console_access import current_membership

from . import reveal, selectors, services
from .actors import Permission, VaultActor, actor_for_membership
from .audit import audit_verify
from .forms import (
    AuditFilterForm,
    CardForm,
    EditLoginForm,
    LoginForm,
    RevealForm,
    VaultNameForm,
    VaultSettingsForm,
)
from .models import AuditOutcome, Vault
from .unseal import vault_seal_status

REAUTH_SESSION_KEY = "periscope_vault_reauth_at"
REAUTH_SECONDS = 5 * 60
SECRET_POST_FIELDS = ("password", "mfa_secret", "number", "cvv", "holder")


def _actor(request: HttpRequest, *, reauthenticated: bool = False) -> VaultActor:
    return actor_for_membership(current_membership(request), reauthenticated=reauthenticated)


def _require(actor: VaultActor, permission: Permission) -> None:
    if not actor.can(permission):
        raise PermissionDenied(actor.refusal(permission))


def _vault(actor: VaultActor, vault_id) -> Vault:
    try:
        return selectors.vault_get_for_team(team=actor.team, vault_id=vault_id)
    except NotFound:
        raise Http404("No such vault in this team") from None


def _call(request: HttpRequest, action: Callable, form=None, fields: dict | None = None):
    """Run a service; a 422 lands on the form field it names (or in a message), a 404 or 403
    becomes that page, anything else the user can act on (sealed, conflict...) a message.
    Returns (ok, result)."""
    try:
        return True, action()
    except NotFound:
        raise Http404("No such vault or item in this team") from None
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except InvalidInput as exc:
        name = (fields or {}).get(exc.field.rsplit(".", 1)[-1])
        if form is not None and name in form.fields:
            form.add_error(name, exc.detail[0]["msg"])
        else:
            messages.error(request, exc.message)
    except PeriscopeError as exc:
        messages.error(request, exc.message)
    return False, None


def _page_context(actor: VaultActor) -> dict:
    status = vault_seal_status()
    return {
        "sealed": status.detail if status.sealed else "",
        "key_warnings": status.warnings if actor.can(Permission.MANAGE) else [],
        "can_manage": actor.can(Permission.MANAGE),
        "can_details": actor.can(Permission.DETAILS),
        "can_reveal": actor.role in ("owner", "admin"),
        "can_settings": actor.can(Permission.SETTINGS),
        "can_audit": actor.can(Permission.AUDIT),
    }


# -- the vault list and team settings -----------------------------------------------------------


@login_required
@require_GET
def vault_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    return _render_list(request, actor)


def _render_list(request: HttpRequest, actor: VaultActor, create_form=None) -> HttpResponse:
    context = _page_context(actor)
    settings_row = selectors.vault_settings_for_team(team=actor.team)
    context.update(
        vaults=[] if context["sealed"] else list(selectors.vault_list_for_team(team=actor.team)),
        create_form=create_form or VaultNameForm(),
        settings_form=VaultSettingsForm(initial={"store_cvv": settings_row.store_cvv}),
        store_cvv=settings_row.store_cvv,
    )
    return render(request, "vaults_app/list.html", context)


@login_required
@require_POST
def vault_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.MANAGE)
    form = VaultNameForm(request.POST)
    if form.is_valid():
        ok, vault = _call(
            request,
            lambda: services.vault_create(actor=actor, name=form.cleaned_data["name"]),
            form,
            {"name": "name"},
        )
        if ok:
            messages.success(request, f"Vault “{vault.name}” created.")
            return redirect("vaults_app:detail", vault_id=vault.pk)
    return _render_list(request, actor, create_form=form)


@login_required
@require_POST
def settings_update(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.SETTINGS)
    form = VaultSettingsForm(request.POST)
    if form.is_valid():
        store = form.cleaned_data["store_cvv"]
        ok, _ = _call(request, lambda: services.vault_settings_set(actor=actor, store_cvv=store))
        if ok:
            messages.success(
                request,
                "CVVs are now stored with cards."
                if store
                else "CVVs are no longer stored; the ones stored were erased.",
            )
    return redirect("vaults_app:list")


# -- one vault -----------------------------------------------------------------------------------


@login_required
@require_GET
def vault_detail(request: HttpRequest, vault_id) -> HttpResponse:
    actor = _actor(request)
    return _render_detail(request, actor, _vault(actor, vault_id))


def _render_detail(
    request, actor, vault, *, login_form=None, card_form=None, rename_form=None, open_form: str = ""
) -> HttpResponse:
    context = _page_context(actor)
    sealed = bool(context["sealed"])
    context.update(
        vault=vault,
        logins=[] if sealed else list(selectors.credential_list(vault=vault)),
        card=None if sealed or not context["can_details"] else selectors.card_get(vault=vault),
        store_cvv=selectors.vault_settings_for_team(team=actor.team).store_cvv,
        login_form=login_form or LoginForm(),
        card_form=card_form or CardForm(),
        rename_form=rename_form or VaultNameForm(initial={"name": vault.name}),
        open_form=open_form,
    )
    return render(request, "vaults_app/detail.html", context)


@login_required
@require_POST
def vault_rename(request: HttpRequest, vault_id) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.MANAGE)
    vault = _vault(actor, vault_id)
    form = VaultNameForm(request.POST)
    if form.is_valid():
        ok, _ = _call(
            request,
            lambda: services.vault_rename(
                actor=actor, vault_id=vault.pk, name=form.cleaned_data["name"]
            ),
            form,
            {"name": "name"},
        )
        if ok:
            messages.success(request, "Vault renamed.")
            return redirect("vaults_app:detail", vault_id=vault.pk)
    return _render_detail(request, actor, vault, rename_form=form, open_form="rename")


@login_required
@require_POST
def vault_delete(request: HttpRequest, vault_id) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.MANAGE)
    vault = _vault(actor, vault_id)
    name = vault.name
    ok, _ = _call(request, lambda: services.vault_delete(actor=actor, vault_id=vault.pk))
    if ok:
        messages.success(request, f"Vault “{name}” and everything in it deleted.")
        return redirect("vaults_app:list")
    return redirect("vaults_app:detail", vault_id=vault.pk)


# -- logins --------------------------------------------------------------------------------------


@sensitive_post_parameters(*SECRET_POST_FIELDS)
@sensitive_variables("form")
@login_required
@require_POST
def login_add(request: HttpRequest, vault_id) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.MANAGE)
    vault = _vault(actor, vault_id)
    form = LoginForm(request.POST)
    if form.is_valid():
        email, username = form.login_parts()
        data = form.cleaned_data
        ok, result = _call(
            request,
            lambda: services.credential_put(
                actor=actor,
                vault_id=vault.pk,
                url=data["url"],
                email=email,
                username=username,
                password=data["password"],
                mfa_secret=data["mfa_secret"],
                field_prefix="",
            ),
            form,
            LoginForm.SERVICE_FIELDS,
        )
        if ok:
            credential, created = result
            messages.success(
                request, f"Login for {credential.url} {'added' if created else 'replaced'}."
            )
            return redirect("vaults_app:detail", vault_id=vault.pk)
    return _render_detail(request, actor, vault, login_form=form, open_form="login")


@sensitive_post_parameters(*SECRET_POST_FIELDS)
@sensitive_variables("form")
@login_required
@require_http_methods(["GET", "POST"])
def login_edit(request: HttpRequest, vault_id, item_id) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.MANAGE)
    vault = _vault(actor, vault_id)
    try:
        credential = selectors.credential_get(vault=vault, credential_id=item_id)
    except NotFound:
        raise Http404("No such login in this vault") from None
    form = EditLoginForm(initial={"url": credential.url, "login": credential.login})
    if request.method == "POST":
        form = EditLoginForm(request.POST)
        if form.is_valid():
            email, username = form.login_parts()
            data = form.cleaned_data
            ok, _ = _call(
                request,
                lambda: services.credential_edit(
                    actor=actor,
                    vault_id=vault.pk,
                    credential_id=credential.pk,
                    url=data["url"],
                    email=email,
                    username=username,
                    password=data["password"],
                    mfa_secret=data["mfa_secret"],
                    remove_mfa=data["remove_mfa"],
                ),
                form,
                EditLoginForm.SERVICE_FIELDS,
            )
            if ok:
                messages.success(request, "Login saved.")
                return redirect("vaults_app:detail", vault_id=vault.pk)
    context = {**_page_context(actor), "vault": vault, "credential": credential, "form": form}
    return render(request, "vaults_app/login_edit.html", context)


@login_required
@require_POST
def login_delete(request: HttpRequest, vault_id, item_id) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.MANAGE)
    vault = _vault(actor, vault_id)
    ok, _ = _call(
        request,
        lambda: services.credential_delete(actor=actor, vault_id=vault.pk, credential_id=item_id),
    )
    if ok:
        messages.success(request, "Login deleted.")
    return redirect("vaults_app:detail", vault_id=vault.pk)


# -- the card ------------------------------------------------------------------------------------


@sensitive_post_parameters(*SECRET_POST_FIELDS)
@sensitive_variables("form", "data")
@login_required
@require_POST
def card_set(request: HttpRequest, vault_id) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.MANAGE)
    vault = _vault(actor, vault_id)
    form = CardForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        ok, result = _call(
            request,
            lambda: services.card_set(
                actor=actor,
                vault_id=vault.pk,
                holder=data["holder"],
                number=data["number"],
                expiration=data["expiration"],
                cvv=data["cvv"],
                allowed_origins=data["allowed_origins"],
                field_prefix="",
            ),
            form,
            CardForm.SERVICE_FIELDS,
        )
        if ok:
            _, cvv_stored = result
            note = (
                ""
                if cvv_stored or not data["cvv"]
                else " Its CVV was not stored: this team does not store CVVs."
            )
            messages.success(request, f"Card saved.{note}")
            return redirect("vaults_app:detail", vault_id=vault.pk)
    return _render_detail(request, actor, vault, card_form=form, open_form="card")


@login_required
@require_POST
def card_delete(request: HttpRequest, vault_id) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.MANAGE)
    vault = _vault(actor, vault_id)
    ok, _ = _call(request, lambda: services.card_delete(actor=actor, vault_id=vault.pk))
    if ok:
        messages.success(request, "Card deleted.")
    return redirect("vaults_app:detail", vault_id=vault.pk)


# -- reveal --------------------------------------------------------------------------------------

REVEAL_KINDS = {"password": "the password", "totp": "the current TOTP code", "card": "the card"}


def _recently_reauthenticated(request: HttpRequest) -> bool:
    at = request.session.get(REAUTH_SESSION_KEY)
    return isinstance(at, (int, float)) and 0 <= time.time() - at < REAUTH_SECONDS


@sensitive_post_parameters("password")
@sensitive_variables("values", "revealed", "form")
@login_required
@require_http_methods(["GET", "POST"])
def reveal_view(request: HttpRequest, vault_id, kind: str, item_id=None) -> HttpResponse:
    """Owners and admins re-enter their password (once per 5 minutes), then see the value once."""
    if kind not in REVEAL_KINDS or (kind == "card") != (item_id is None):
        raise Http404("Nothing to reveal here")
    actor = _actor(request)
    if actor.role not in ("owner", "admin"):
        raise PermissionDenied(actor.refusal(Permission.REVEAL))
    vault = _vault(actor, vault_id)
    credential = None
    if kind != "card":
        try:
            credential = selectors.credential_get(vault=vault, credential_id=item_id)
        except NotFound:
            raise Http404("No such login in this vault") from None
    fresh = _recently_reauthenticated(request)
    form = RevealForm(request.POST if request.method == "POST" else None)
    revealed = None
    status = 200
    if request.method == "POST" and form.is_valid():
        typed = form.cleaned_data["password"]
        passed = fresh or (
            bool(typed)
            and authenticate(request, username=request.user.get_username(), password=typed)
            is not None
        )
        actor = _actor(request, reauthenticated=passed)
        try:
            revealed = _reveal(actor, vault, kind, credential)
        except Forbidden:
            form.add_error(
                "password", "That is not your password." if typed else "Enter your password."
            )
            status = 403
        except PeriscopeError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            if not fresh:
                request.session[REAUTH_SESSION_KEY] = time.time()
            fresh = True
    context = {
        **_page_context(actor),
        "vault": vault,
        "credential": credential,
        "kind": kind,
        "what": REVEAL_KINDS[kind],
        "form": form,
        "fresh": fresh,
        "revealed": revealed,
    }
    response = render(request, "vaults_app/reveal.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@sensitive_variables("values")
def _reveal(actor: VaultActor, vault: Vault, kind: str, credential) -> dict:
    purpose = "console reveal"
    if kind == "password":
        values = reveal.credential_reveal(
            actor=actor,
            vault_id=vault.pk,
            credential_id=credential.pk,
            fields=("password",),
            purpose=purpose,
        )
        return {"Password": values["password"]}
    if kind == "totp":
        code = reveal.credential_totp_reveal(
            actor=actor, vault_id=vault.pk, credential_id=credential.pk, purpose=purpose
        )
        return {"TOTP code": code, "valid for": f"{30 - int(time.time()) % 30} s"}
    values = reveal.card_reveal(actor=actor, vault_id=vault.pk, purpose=purpose)
    return {
        "Name on card": values["card_holder_name"],
        "Card number": values["card_number"],
        "Expiry": values["card_full_expiration"],
        "CVV": values["card_cvv"] or "not stored",
    }


# -- the audit log -------------------------------------------------------------------------------


def _session_url(session_id: str) -> str:
    if not session_id:
        return ""
    try:
        return reverse("sessions_app:detail", args=[session_id])
    except NoReverseMatch:
        return ""


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, Permission.AUDIT)
    form = AuditFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    context = _page_context(actor)
    verified = None
    if request.GET.get("verify") and not context["sealed"]:
        from .unseal import vault_keyring

        checked, problems = audit_verify(keyring=vault_keyring(), team=actor.team)
        verified = {"checked": checked, "problems": [str(p) for p in problems]}
    events = selectors.audit_list_for_team(
        team=actor.team,
        vault_id=filters.get("vault", ""),
        item_id=filters.get("item", ""),
        actor=filters.get("user", ""),
        session_id=filters.get("session", "").strip(),
    )
    for event in events:
        event.session_url = _session_url(event.session_id)
    context.update(
        events=events,
        choices=selectors.audit_filter_choices(team=actor.team),
        filters=filters,
        filtered=any(filters.values()),
        verified=verified,
        outcomes=AuditOutcome,
    )
    return render(request, "vaults_app/audit.html", context)
