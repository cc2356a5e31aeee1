"""Filling a page from a vault: the one place a secret leaves the vault for a browser.

The browser worker calls `vault_secret_for_fill` at the moment it fills an element whose value
is one of Notte's placeholders (placeholders.py), and types what it returns. The rules:

- the login is chosen by the page's top-level origin (a login stored for a domain covers that
  domain and its subdomains), and the frame holding the element must be covered too;
- a password only goes into a password input, a card value only into a card field (by its
  autocomplete token, or a name, id or label that says so), a username or email only into a
  text-like input;
- the TOTP code is computed here from the stored secret;
- every fill and every refusal is audited, in the transaction that returns the value.

A refusal raises FillRefused, whose `code` says why in a word and whose message says it in a
sentence the worker can hand back as the step's failure reason.
"""

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from core.errors import Forbidden, InvalidInput, PeriscopeError
from teams_app.models import Team

from . import selectors
from .actors import Permission, VaultActor
from .audit import audit_record
from .items import open_item
from .models import AuditOutcome, Vault, VaultAuditAction, VaultCard, VaultCredential
from .origins import Origin, binding_allows, origin_of, parse_binding, site_allows
from .placeholders import CARD_FIELDS, VaultField, is_placeholder, placeholder_field
from .totp import totp_now
from .unseal import vault_keyring


class FillRefused(PeriscopeError):
    """The vault will not fill this element; `code` is one of the REFUSAL_CODES."""

    status = 422

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


REFUSAL_CODES = (
    "not_a_placeholder",
    "form_fill_key_mismatch",
    "forbidden",
    "not_a_web_page",
    "wrong_field_type",
    "no_login_for_origin",
    "frame_origin_mismatch",
    "no_card",
    "card_origin_mismatch",
    "field_not_stored",
)


@dataclass(frozen=True)
class FillElement:
    """What the worker knows of the element being filled (lower-case tag and attributes)."""

    tag: str = "input"
    type: str = ""
    autocomplete: str = ""
    name: str = ""
    id: str = ""
    label: str = ""  # its accessible name or placeholder text, if any

    def describe(self) -> str:
        kind = f"<{self.tag}{f' type={self.type}' if self.type else ''}>"
        named = self.name or self.id
        return f"{kind} {named!r}" if named else kind


_TEXT_TYPES = {"", "text", "email", "tel", "search", "url"}
_CODE_TYPES = {"", "text", "tel", "number", "password"}
_CARD_TYPES = {"", "text", "tel", "number"}
_CARD_AUTOCOMPLETE = {
    VaultField.CARD_HOLDER: {"cc-name"},
    VaultField.CARD_NUMBER: {"cc-number"},
    VaultField.CARD_CVV: {"cc-csc"},
    VaultField.CARD_EXPIRATION: {"cc-exp"},
    VaultField.CARD_EXP_MONTH: {"cc-exp-month"},
    VaultField.CARD_EXP_YEAR: {"cc-exp-year"},
}
# Adapted from Notte's card-field patterns, without their bare "number" (which also matches
# phone-number fields).
_CARD_PATTERNS = {
    VaultField.CARD_HOLDER: re.compile(r"(cc|card).*(holder|name)|cardholder|name.?on.?card", re.I),
    VaultField.CARD_NUMBER: re.compile(r"(cc|card).*(num|no\b)|\bpan\b", re.I),
    VaultField.CARD_CVV: re.compile(r"cvv|cvc|csc|(security|verification).?code", re.I),
    VaultField.CARD_EXPIRATION: re.compile(r"(cc|card).*exp|expir|mm.?yy", re.I),
    VaultField.CARD_EXP_MONTH: re.compile(r"exp.*(month|\bmm\b)", re.I),
    VaultField.CARD_EXP_YEAR: re.compile(r"exp.*(year|\byy)", re.I),
}


def _element_refusal(field: VaultField, el: FillElement) -> str | None:
    tag, typ, auto = el.tag.lower(), el.type.lower(), el.autocomplete.lower().split()
    text = " ".join((el.name, el.id, el.label, el.autocomplete))
    if field == VaultField.PASSWORD:
        if tag == "input" and typ == "password":
            return None
        return f"a password only goes into a password input, not {el.describe()}"
    if field in (VaultField.EMAIL, VaultField.USERNAME):
        if tag == "input" and typ in _TEXT_TYPES:
            return None
        return f"a username or email only goes into a text input, not {el.describe()}"
    if field == VaultField.TOTP_CODE:
        if tag == "input" and typ in _CODE_TYPES:
            return None
        return f"a one-time code only goes into a text or number input, not {el.describe()}"
    allowed_types = _CARD_TYPES | ({"password"} if field == VaultField.CARD_CVV else set())
    if not (
        (tag == "input" and typ in allowed_types)
        or (
            tag == "select"
            and field
            in (VaultField.CARD_EXP_MONTH, VaultField.CARD_EXP_YEAR, VaultField.CARD_EXPIRATION)
        )
    ):
        return f"a card value only goes into a card input, not {el.describe()}"
    if _CARD_AUTOCOMPLETE[field] & set(auto) or _CARD_PATTERNS[field].search(text):
        return None
    token = next(iter(_CARD_AUTOCOMPLETE[field]))
    return (
        f"{el.describe()} is not a card field for {field.value} (no autocomplete={token}, and its name, "
        "id and label do not say so)"
    )


def _candidate_sites(origin: Origin) -> list[str]:
    """Every stored site string that could cover this origin: its host and each parent domain,
    as a domain and as an origin with the page's scheme and port."""
    labels = origin.host.split(".")
    hosts = (
        [origin.host]
        if ":" in origin.host or origin.host.replace(".", "").isdigit()
        else [".".join(labels[i:]) for i in range(len(labels))]
    )
    sites = []
    for host in hosts:
        sites.append(host)
        sites.append(str(Origin(scheme=origin.scheme, host=host, port=origin.port)))
    return sites


def _best_login(vault: Vault, origin: Origin) -> VaultCredential | None:
    """The login whose site covers the page; an origin beats a domain, a longer host a shorter."""
    matches = []
    for credential in selectors.credential_list(vault=vault).filter(
        url__in=_candidate_sites(origin)
    ):
        binding = parse_binding(credential.url)
        if binding_allows(binding, origin):
            matches.append(((not binding.is_domain, len(binding.host)), credential))
    return max(matches, key=lambda m: m[0])[1] if matches else None


def _frame_ok(site_check, page_url: str, frame_url: str | None) -> bool:
    if not frame_url or frame_url == page_url or frame_url in ("about:blank", "about:srcdoc"):
        return True  # the top frame, or a frame that inherits the page's origin
    return site_check(frame_url)


@sensitive_variables("opened", "value")
def vault_secret_for_fill(
    *,
    team: Team,
    vault_id,
    placeholder: str,
    page_url: str,
    frame_url: str | None,
    element: FillElement,
    session_id: str | None,
    step_index: int | None,
    actor: VaultActor,
    form_fill_key: str | None = None,
) -> str:
    """The value to type for `placeholder` into `element`, or FillRefused saying why.

    Raises VaultSealed (503) when sealed, NotFound when the vault is gone, VaultKeyMissing or
    ItemCorrupt when the stored secret cannot be opened (each of those also audited).
    """
    keyring = vault_keyring()
    origin = origin_of(page_url)
    refusal: PeriscopeError | None = None
    value = ""
    with transaction.atomic():
        vault = selectors.vault_get_for_team(team=team, vault_id=vault_id)
        field = placeholder_field(placeholder, form_fill_key)
        item: VaultCredential | VaultCard | None = None
        if not is_placeholder(placeholder):
            refusal = FillRefused(
                "not_a_placeholder", "the value is not one of the vault placeholders"
            )
        elif field is None:
            refusal = FillRefused(
                "form_fill_key_mismatch",
                f"the form_fill key {form_fill_key!r} does not take the {placeholder!r} placeholder",
            )
        elif actor.team.pk != team.pk or not actor.can(Permission.USE):
            refusal = FillRefused("forbidden", actor.refusal(Permission.USE))
        elif origin is None:
            refusal = FillRefused(
                "not_a_web_page", "vault values are only filled into http(s) pages"
            )
        elif reason := _element_refusal(field, element):
            refusal = FillRefused("wrong_field_type", reason)
        elif field in CARD_FIELDS:
            item = selectors.card_get(vault=vault)
            refusal = _card_refusal(item, field, page_url, frame_url, origin)
        else:
            item = _best_login(vault, origin)
            if item is None:
                refusal = FillRefused(
                    "no_login_for_origin", f"this vault has no login for {origin}"
                )
            elif not _frame_ok(
                lambda url, site=item.url: site_allows(site, url), page_url, frame_url
            ):
                refusal = FillRefused(
                    "frame_origin_mismatch",
                    f"the field is in a frame from {origin_of(frame_url) or frame_url}, "
                    f"which the login for {item.url} does not cover",
                )
            elif field == VaultField.TOTP_CODE and not item.has_totp:
                refusal = FillRefused(
                    "field_not_stored", f"the login for {item.url} has no TOTP secret"
                )
        action = (
            VaultAuditAction.CARD_USED if field in CARD_FIELDS else VaultAuditAction.CREDENTIAL_USED
        )
        audit = {
            "keyring": keyring,
            "actor": actor,
            "vault": vault,
            "action": action,
            "item": item if refusal is None else None,
            "item_label": (getattr(item, "url", None) or str(item)) if item is not None else "",
            "field": field.value if field else "",
            "purpose": "fill in a browser session",
            "session_id": session_id,
            "step_index": step_index,
            "target_origin": str(origin) if origin else (page_url or "")[:300],
        }
        if refusal is None:
            try:
                value = _value_of(keyring, item, field, team)
            except PeriscopeError as exc:
                refusal = exc
                audit_record(**audit, outcome=AuditOutcome.ERROR, detail=exc.message)
            else:
                audit_record(**audit)
                type(item).objects.filter(pk=item.pk).update(
                    use_count=F("use_count") + 1, last_used_at=timezone.now()
                )
        else:
            audit_record(**audit, outcome=AuditOutcome.DENIED, detail=refusal.message)
    if refusal is not None:
        raise refusal
    return value


def _card_refusal(
    card: VaultCard | None, field: VaultField, page_url: str, frame_url: str | None, origin: Origin
) -> FillRefused | None:
    if card is None:
        return FillRefused("no_card", "this vault has no card")
    if card.allowed_origins and not any(
        site_allows(site, page_url) for site in card.allowed_origins
    ):
        return FillRefused(
            "card_origin_mismatch",
            f"the card may only be filled on {', '.join(card.allowed_origins)}, not on {origin}",
        )
    if card.allowed_origins and not _frame_ok(
        lambda url: any(site_allows(site, url) for site in card.allowed_origins),
        page_url,
        frame_url,
    ):
        return FillRefused(
            "frame_origin_mismatch",
            f"the field is in a frame from {origin_of(frame_url) or frame_url}, where the card "
            "may not be filled",
        )
    if (
        not card.allowed_origins
        and frame_url
        and origin_of(frame_url) is None
        and frame_url not in ("about:blank", "about:srcdoc")
    ):
        return FillRefused(
            "frame_origin_mismatch", "vault values are only filled into http(s) frames"
        )
    if field == VaultField.CARD_CVV and not card.has_cvv:
        return FillRefused(
            "field_not_stored", "the card has no CVV stored (the team does not store CVVs)"
        )
    return None


@sensitive_variables("opened")
def _value_of(keyring, item, field: VaultField, team: Team) -> str:
    if field == VaultField.EMAIL:
        return item.email or item.username
    if field == VaultField.USERNAME:
        return item.username or item.email
    if field == VaultField.PASSWORD:
        return open_item(keyring, item, team.pk, ("password",))["password"]
    if field == VaultField.TOTP_CODE:
        return totp_now(open_item(keyring, item, team.pk, ("mfa_secret",))["mfa_secret"])
    if field == VaultField.CARD_EXP_MONTH:
        return f"{item.exp_month:02d}"
    if field == VaultField.CARD_EXP_YEAR:
        return str(item.exp_year)
    opened = open_item(keyring, item, team.pk, (field.value,))
    return opened[field.value]


def vault_check_usable(*, team: Team, vault_id, actor: VaultActor | None = None) -> Vault:
    """For a session start with `vault_id`: the team's vault, or a clear refusal.

    503 (VaultSealed) when sealed, 422 naming `vault_id` when this team has no such vault (an
    unknown id and another team's id answer alike), 403 when the actor may not use vaults.
    """
    vault_keyring()
    try:
        vault = selectors.vault_get_for_team(team=team, vault_id=vault_id)
    except PeriscopeError:
        raise InvalidInput(
            "vault_id",
            f"this team has no vault {str(vault_id)[:100]}; create one with "
            "POST /api/vaults/create",
        ) from None
    if actor is not None and not actor.can(Permission.USE):
        raise Forbidden(actor.refusal(Permission.USE))
    return vault
