"""Reads. Every lookup is scoped to a team: another team's id answers exactly like an unknown one."""

import uuid
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from core.errors import NotFound
from teams_app.models import Team

from .models import (
    REVEAL_ACTIONS,
    Vault,
    VaultAuditEvent,
    VaultCard,
    VaultCredential,
    VaultTeamSettings,
)


def _uuid(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def vault_not_found(vault_id) -> NotFound:
    return NotFound(f"Vault {str(vault_id)[:100]} not found")


def vault_get_for_team(*, team: Team, vault_id, lock: bool = False) -> Vault:
    pk = _uuid(vault_id)
    vaults = Vault.objects.filter(team=team)
    if lock:
        vaults = vaults.select_for_update()
    vault = vaults.filter(pk=pk).first() if pk else None
    if vault is None:
        raise vault_not_found(vault_id)
    return vault


def vault_list_for_team(*, team: Team) -> QuerySet[Vault]:
    return (
        Vault.objects.filter(team=team)
        .annotate(
            credential_count=Count("credentials"),
            has_card=Exists(VaultCard.objects.filter(vault=OuterRef("pk"))),
        )
        .order_by("name", "created_at")
    )


def vault_page_for_team(*, team: Team, page: int, page_size: int) -> list[Vault]:
    page, page_size = max(page, 1), min(max(page_size, 1), 100)
    start = (page - 1) * page_size
    return list(
        Vault.objects.filter(team=team).order_by("created_at", "id")[start : start + page_size]
    )


def credential_list(*, vault: Vault) -> QuerySet[VaultCredential]:
    return VaultCredential.objects.filter(vault=vault).order_by("url")


def credential_get_by_url(*, vault: Vault, site: str) -> VaultCredential:
    credential = VaultCredential.objects.filter(vault=vault, url=site).first()
    if credential is None:
        raise NotFound(f"No credentials for {site} in vault {vault.pk}")
    return credential


def credential_get(*, vault: Vault, credential_id) -> VaultCredential:
    pk = _uuid(credential_id)
    credential = VaultCredential.objects.filter(vault=vault, pk=pk).first() if pk else None
    if credential is None:
        raise NotFound(f"No such login in vault {vault.name}")
    return credential


def card_get(*, vault: Vault) -> VaultCard | None:
    return VaultCard.objects.filter(vault=vault).first()


def vault_settings_for_team(*, team: Team) -> VaultTeamSettings:
    return VaultTeamSettings.objects.filter(team=team).first() or VaultTeamSettings(team=team)


def reveal_attempts_since(
    *, team: Team, actor_kind: str, actor_id: str, since_minutes: int = 60
) -> int:
    since = timezone.now() - timedelta(minutes=since_minutes)
    return VaultAuditEvent.objects.filter(
        team=team,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action__in=REVEAL_ACTIONS,
        created_at__gte=since,
    ).count()


def audit_list_for_team(
    *,
    team: Team,
    vault_id: str = "",
    item_id: str = "",
    actor: str = "",
    session_id: str = "",
    limit: int = 200,
) -> list[VaultAuditEvent]:
    events = VaultAuditEvent.objects.filter(team=team)
    if vault_id:
        events = events.filter(vault_id=_uuid(vault_id)) if _uuid(vault_id) else events.none()
    if item_id:
        events = events.filter(item_id=_uuid(item_id)) if _uuid(item_id) else events.none()
    if actor:
        events = events.filter(actor_label=actor)
    if session_id:
        events = events.filter(session_id=session_id)
    return list(events.order_by("-created_at", "-seq")[:limit])


def audit_filter_choices(*, team: Team) -> dict[str, list]:
    """Values the audit log can be filtered by: vaults, items and actors seen in it."""
    events = VaultAuditEvent.objects.filter(team=team)
    vaults = {}
    for vault_id, name in (
        events.exclude(vault_id=None).values_list("vault_id", "vault_name").distinct()
    ):
        vaults.setdefault(str(vault_id), name)
    items = {}
    for item_id, label in (
        events.exclude(item_id=None).values_list("item_id", "item_label").distinct()
    ):
        items.setdefault(str(item_id), label)
    actors = sorted(set(events.values_list("actor_label", flat=True)))
    return {
        "vaults": sorted(vaults.items(), key=lambda kv: kv[1].lower()),
        "items": sorted(items.items(), key=lambda kv: kv[1].lower()),
        "actors": actors,
    }
