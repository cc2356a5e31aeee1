"""Reading a secret back ("reveal"): always audited, denied ones included.

Owners and admins reveal in the console after re-entering their password, at most
REVEALS_PER_HOUR times an hour; API clients need a key with the `vaults.reveal` scope created by
an owner or admin. A denial is recorded and committed before the refusal is raised; a success is
recorded in the transaction that returns the value, so a failed audit write returns nothing.
"""

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from core.errors import Forbidden, InvalidInput, NotFound, PeriscopeError, RateLimited

from . import selectors, validation
from .actors import Permission, VaultActor
from .audit import audit_record
from .items import open_item
from .keyring import Keyring
from .models import AuditOutcome, Vault, VaultAuditAction
from .totp import totp_now
from .unseal import vault_keyring

REVEALS_PER_HOUR = 10
CREDENTIAL_FIELDS = ("password", "mfa_secret")
CARD_FIELDS = ("card_holder_name", "card_number", "card_full_expiration", "card_cvv")


def _gate(
    keyring: Keyring,
    actor: VaultActor,
    vault: Vault,
    action: str,
    *,
    item_label: str,
    field: str,
    purpose: str,
) -> PeriscopeError | None:
    """The refusal for this reveal, already audited, or None when it may go ahead."""
    refusal: PeriscopeError | None = None
    if not actor.can(Permission.REVEAL):
        refusal = Forbidden(actor.refusal(Permission.REVEAL))
    elif (
        actor.kind == "user"
        and selectors.reveal_attempts_since(team=actor.team, actor_kind="user", actor_id=actor.id)
        >= REVEALS_PER_HOUR
    ):
        refusal = RateLimited(
            f"At most {REVEALS_PER_HOUR} reveals an hour; try again later",
            headers={"Retry-After": "3600"},
        )
    if refusal is not None:
        audit_record(
            keyring=keyring,
            actor=actor,
            vault=vault,
            action=action,
            outcome=AuditOutcome.DENIED,
            item_label=item_label,
            field=field,
            purpose=purpose,
            detail=refusal.message,
        )
    return refusal


def _reveal(
    actor: VaultActor,
    vault_id,
    action: str,
    purpose: str,
    field: str,
    find,
    fields: tuple[str, ...],
    item_label: str = "",
):
    keyring = vault_keyring()
    refusal: PeriscopeError | None = None
    values = None
    with transaction.atomic():
        vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id)
        refusal = _gate(
            keyring, actor, vault, action, item_label=item_label, field=field, purpose=purpose
        )
        if refusal is None:
            item = find(vault)
            label = getattr(item, "url", None) or str(item)
            try:
                values = open_item(keyring, item, actor.team.pk, fields)
            except PeriscopeError as exc:
                audit_record(
                    keyring=keyring,
                    actor=actor,
                    vault=vault,
                    item=item,
                    item_label=label,
                    action=action,
                    outcome=AuditOutcome.ERROR,
                    field=field,
                    purpose=purpose,
                    detail=exc.message,
                )
                refusal = exc
            else:
                audit_record(
                    keyring=keyring,
                    actor=actor,
                    vault=vault,
                    item=item,
                    item_label=label,
                    action=action,
                    field=field,
                    purpose=purpose,
                )
                values = (item, values)
    if refusal is not None:
        raise refusal
    return values


@sensitive_variables("values", "opened")
def credential_reveal(
    *,
    actor: VaultActor,
    vault_id,
    url: str | None = None,
    credential_id=None,
    fields: tuple[str, ...] = CREDENTIAL_FIELDS,
    purpose: str,
) -> dict[str, str | None]:
    """The login's username or email, and the named secret fields, for a site or an item id."""
    site = validation.clean_site(url, "url") if credential_id is None else ""

    def find(vault):
        if credential_id is not None:
            return selectors.credential_get(vault=vault, credential_id=credential_id)
        return selectors.credential_get_by_url(vault=vault, site=site)

    item, opened = _reveal(
        actor,
        vault_id,
        VaultAuditAction.CREDENTIAL_REVEALED,
        purpose,
        ",".join(fields),
        find,
        fields,
        item_label=site,
    )
    values = {"email": item.email or None, "username": item.username or None, **opened}
    return values


@sensitive_variables("opened", "secret")
def credential_totp_reveal(*, actor: VaultActor, vault_id, credential_id, purpose: str) -> str:
    """The login's current TOTP code (not its secret)."""

    def find(vault):
        credential = selectors.credential_get(vault=vault, credential_id=credential_id)
        if not credential.has_totp:
            raise InvalidInput("mfa_secret", f"the login for {credential.url} has no TOTP secret")
        return credential

    _, opened = _reveal(
        actor,
        vault_id,
        VaultAuditAction.CREDENTIAL_REVEALED,
        purpose,
        "totp_code",
        find,
        ("mfa_secret",),
    )
    return totp_now(opened["mfa_secret"])


@sensitive_variables("opened")
def card_reveal(*, actor: VaultActor, vault_id, purpose: str) -> dict[str, str | None]:
    def find(vault):
        card = selectors.card_get(vault=vault)
        if card is None:
            raise NotFound(f"Vault {vault.pk} has no card")
        return card

    _, opened = _reveal(
        actor,
        vault_id,
        VaultAuditAction.CARD_REVEALED,
        purpose,
        ",".join(CARD_FIELDS),
        find,
        CARD_FIELDS,
        item_label="card",
    )
    return opened
