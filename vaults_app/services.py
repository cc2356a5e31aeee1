"""Writes: vaults, their logins and card, and the team's vault settings.

Every function checks that the vaults are unsealed (503 otherwise, before anything is read or
written), checks the actor's permission (deny by default), and records an audit row in the
same transaction as the change: no audit row, no change.
"""

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from core.errors import Forbidden, InvalidInput, NotFound

from . import selectors, validation
from .actors import Permission, VaultActor
from .audit import audit_record
from .items import reseal_fields, seal_item
from .keyring import Keyring
from .models import Vault, VaultAuditAction, VaultCard, VaultCredential, VaultTeamSettings
from .unseal import vault_keyring


def _require(actor: VaultActor, permission: Permission) -> None:
    if not actor.can(permission):
        raise Forbidden(actor.refusal(permission))


def _begin(actor: VaultActor, permission: Permission) -> Keyring:
    keyring = vault_keyring()
    _require(actor, permission)
    return keyring


# -- vaults ------------------------------------------------------------------------------------


@transaction.atomic
def vault_create(*, actor: VaultActor, name: str | None, for_persona: bool = False) -> Vault:
    keyring = _begin(actor, Permission.MANAGE)
    vault = Vault.objects.create(
        team=actor.team, name=validation.clean_vault_name(name), for_persona=for_persona
    )
    audit_record(keyring=keyring, actor=actor, action=VaultAuditAction.VAULT_CREATED, vault=vault)
    return vault


@transaction.atomic
def vault_rename(*, actor: VaultActor, vault_id, name: str | None) -> Vault:
    keyring = _begin(actor, Permission.MANAGE)
    vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id, lock=True)
    new_name = validation.clean_vault_name(name)
    if new_name != vault.name:
        old = vault.name
        vault.name = new_name
        vault.save(update_fields=["name", "updated_at"])
        audit_record(
            keyring=keyring,
            actor=actor,
            action=VaultAuditAction.VAULT_RENAMED,
            vault=vault,
            detail=f"renamed from {old!r}",
        )
    return vault


@transaction.atomic
def vault_delete(*, actor: VaultActor, vault_id) -> None:
    keyring = _begin(actor, Permission.MANAGE)
    vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id, lock=True)
    logins = vault.credentials.count()
    has_card = VaultCard.objects.filter(vault=vault).exists()
    audit_record(
        keyring=keyring,
        actor=actor,
        action=VaultAuditAction.VAULT_DELETED,
        vault=vault,
        detail=f"with {logins} login(s){' and a card' if has_card else ''}",
    )
    vault.delete()


# -- logins ------------------------------------------------------------------------------------


@sensitive_variables("password", "mfa_secret", "secret")
@transaction.atomic
def credential_put(
    *,
    actor: VaultActor,
    vault_id,
    url: str | None,
    email: str | None = None,
    username: str | None = None,
    password: str | None,
    mfa_secret: str | None = None,
    field_prefix: str = "credentials.",
) -> tuple[VaultCredential, bool]:
    """Add the login for a site, or replace the one already stored for it (Notte's add-or-update:
    every field is replaced, so a login sent without mfa_secret loses its TOTP secret)."""
    keyring = _begin(actor, Permission.MANAGE)
    vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id, lock=True)
    site = validation.clean_site(url, "url")
    email, username = validation.clean_login(
        email=email, username=username, field_prefix=field_prefix
    )
    password = validation.clean_password(password, f"{field_prefix}password")
    secret = validation.clean_totp_secret(mfa_secret, f"{field_prefix}mfa_secret")
    credential = VaultCredential.objects.filter(vault=vault, url=site).first()
    created = credential is None
    if created:
        credential = VaultCredential(vault=vault, url=site)
    credential.email, credential.username = email, username
    seal_item(keyring, credential, actor.team.pk, {"password": password, "mfa_secret": secret})
    credential.save()
    audit_record(
        keyring=keyring,
        actor=actor,
        vault=vault,
        item=credential,
        item_label=site,
        action=VaultAuditAction.CREDENTIAL_CREATED
        if created
        else VaultAuditAction.CREDENTIAL_UPDATED,
        field="password,mfa_secret" if secret else "password",
    )
    return credential, created


@sensitive_variables("password", "mfa_secret", "secret", "changes")
@transaction.atomic
def credential_edit(
    *,
    actor: VaultActor,
    vault_id,
    credential_id,
    url: str | None,
    email: str | None = None,
    username: str | None = None,
    password: str | None = None,
    mfa_secret: str | None = None,
    remove_mfa: bool = False,
) -> VaultCredential:
    """The console's edit: an empty password or TOTP secret keeps the stored one."""
    keyring = _begin(actor, Permission.MANAGE)
    vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id, lock=True)
    credential = selectors.credential_get(vault=vault, credential_id=credential_id)
    site = validation.clean_site(url, "url")
    if site != credential.url and VaultCredential.objects.filter(vault=vault, url=site).exists():
        raise InvalidInput("url", f"this vault already has a login for {site}; edit that one")
    email, username = validation.clean_login(email=email, username=username, field_prefix="")
    changes: dict[str, str | None] = {}
    if password:
        changes["password"] = validation.clean_password(password, "password")
    if remove_mfa:
        changes["mfa_secret"] = None
    elif secret := validation.clean_totp_secret(mfa_secret, "mfa_secret"):
        changes["mfa_secret"] = secret
    changed_fields = [
        f
        for f, old, new in (
            ("url", credential.url, site),
            ("email", credential.email, email),
            ("username", credential.username, username),
        )
        if old != new
    ]
    credential.url, credential.email, credential.username = site, email, username
    if changes:
        reseal_fields(keyring, credential, actor.team.pk, changes)
    credential.save()
    audit_record(
        keyring=keyring,
        actor=actor,
        vault=vault,
        item=credential,
        item_label=site,
        action=VaultAuditAction.CREDENTIAL_UPDATED,
        field=",".join([*changed_fields, *changes]),
    )
    return credential


@transaction.atomic
def credential_delete(
    *, actor: VaultActor, vault_id, url: str | None = None, credential_id=None
) -> None:
    keyring = _begin(actor, Permission.MANAGE)
    vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id, lock=True)
    if credential_id is not None:
        credential = selectors.credential_get(vault=vault, credential_id=credential_id)
    else:
        credential = selectors.credential_get_by_url(
            vault=vault, site=validation.clean_site(url, "url")
        )
    audit_record(
        keyring=keyring,
        actor=actor,
        vault=vault,
        item=credential,
        item_label=credential.url,
        action=VaultAuditAction.CREDENTIAL_DELETED,
    )
    credential.delete()


# -- the card ----------------------------------------------------------------------------------


@sensitive_variables("holder", "number", "expiration", "cvv", "card", "values")
@transaction.atomic
def card_set(
    *,
    actor: VaultActor,
    vault_id,
    holder: str | None,
    number: str | None,
    expiration: str | None,
    cvv: str | None = None,
    allowed_origins: list[str] | str | None = None,
    field_prefix: str = "credit_card.",
) -> tuple[VaultCard, bool]:
    """Store (or replace) the vault's card. Returns it and whether its CVV was kept: only when
    the team turned CVV storage on; otherwise the CVV is dropped without being read."""
    keyring = _begin(actor, Permission.MANAGE)
    vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id, lock=True)
    store_cvv = selectors.vault_settings_for_team(team=actor.team).store_cvv
    card = validation.clean_card(
        holder=holder,
        number=number,
        expiration=expiration,
        cvv=cvv,
        store_cvv=store_cvv,
        prefix=field_prefix,
    )
    origins = validation.clean_allowed_origins(allowed_origins)
    item = VaultCard.objects.filter(vault=vault).first()
    created = item is None
    if created:
        item = VaultCard(vault=vault)
    item.brand, item.last4 = card.brand, card.last4
    item.exp_month, item.exp_year = card.exp_month, card.exp_year
    if allowed_origins is not None or created:
        item.allowed_origins = origins
    values = {
        "card_holder_name": card.holder,
        "card_number": card.number,
        "card_full_expiration": card.expiration,
        "card_cvv": card.cvv,
    }
    seal_item(keyring, item, actor.team.pk, values)
    item.save()
    audit_record(
        keyring=keyring,
        actor=actor,
        vault=vault,
        item=item,
        item_label=str(item),
        action=VaultAuditAction.CARD_SET,
        field=",".join(f for f, v in values.items() if v is not None),
        detail="" if card.cvv or not cvv else "CVV not stored: CVV storage is off for this team",
    )
    return item, card.cvv is not None


@transaction.atomic
def card_set_origins(
    *, actor: VaultActor, vault_id, allowed_origins: list[str] | str | None
) -> VaultCard:
    keyring = _begin(actor, Permission.MANAGE)
    vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id, lock=True)
    item = selectors.card_get(vault=vault)
    if item is None:
        raise NotFound(f"Vault {vault.pk} has no card")
    item.allowed_origins = validation.clean_allowed_origins(allowed_origins)
    item.save(update_fields=["allowed_origins", "updated_at"])
    audit_record(
        keyring=keyring,
        actor=actor,
        vault=vault,
        item=item,
        item_label=str(item),
        action=VaultAuditAction.CARD_SET,
        field="allowed_origins",
        detail=", ".join(item.allowed_origins) or "any site",
    )
    return item


@transaction.atomic
def card_delete(*, actor: VaultActor, vault_id) -> None:
    keyring = _begin(actor, Permission.MANAGE)
    vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id, lock=True)
    item = selectors.card_get(vault=vault)
    if item is None:
        raise NotFound(f"Vault {vault.pk} has no card")
    audit_record(
        keyring=keyring,
        actor=actor,
        vault=vault,
        item=item,
        item_label=str(item),
        action=VaultAuditAction.CARD_DELETED,
    )
    item.delete()


# -- team settings -----------------------------------------------------------------------------


@transaction.atomic
def vault_settings_set(*, actor: VaultActor, store_cvv: bool) -> VaultTeamSettings:
    """Turning CVV storage off also erases every CVV the team's cards hold."""
    keyring = _begin(actor, Permission.SETTINGS)
    current, _ = VaultTeamSettings.objects.select_for_update().get_or_create(team=actor.team)
    if current.store_cvv == store_cvv:
        return current
    current.store_cvv = store_cvv
    current.save()
    detail = "CVV storage turned on"
    if not store_cvv:
        erased = VaultCard.objects.filter(vault__team=actor.team, cvv_ct__isnull=False).update(
            cvv_ct=None
        )
        detail = f"CVV storage turned off; {erased} stored CVV(s) erased"
    audit_record(
        keyring=keyring,
        actor=actor,
        action=VaultAuditAction.SETTINGS_CHANGED,
        field="store_cvv",
        detail=detail,
    )
    return current
