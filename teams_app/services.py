import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput

from . import key_cache, keys
from .models import DEFAULT_SCOPES, ApiKey, AuditAction, AuditEvent, Membership, Role, Scope, Team

VALID_SCOPES = {s.value for s in Scope}
# last_used_at is a convenience, not an audit trail: write it at most once a minute per key.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def audit_record(
    *,
    team: Team,
    action: str,
    actor_user: AbstractBaseUser | None = None,
    actor_key: ApiKey | None = None,
    target: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        team=team,
        action=action,
        actor_user=actor_user if actor_user and actor_user.is_authenticated else None,
        actor_key=actor_key,
        target=target[:200],
        data=data or {},
    )


@transaction.atomic
def team_create(*, name: str, owner: AbstractBaseUser) -> Team:
    name = name.strip()
    if not name:
        raise InvalidInput("name", "a team needs a name")
    if Team.objects.filter(name__iexact=name).exists():
        raise Conflict(f"A team called {name!r} already exists; pick another name")
    team = Team.objects.create(name=name)
    Membership.objects.create(team=team, user=owner, role=Role.OWNER)
    audit_record(
        team=team,
        action=AuditAction.MEMBER_ADDED,
        actor_user=owner,
        target=str(owner),
        data={"role": Role.OWNER},
    )
    return team


def _require_manager(actor: Membership) -> None:
    if not actor.can_manage_team:
        raise Forbidden("Only team owners and admins can manage members and API keys")


@transaction.atomic
def membership_add(*, actor: Membership, username: str, role: str) -> Membership:
    _require_manager(actor)
    if role not in Role.values:
        raise InvalidInput("role", f"must be one of {', '.join(Role.values)}")
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise Forbidden("Only an owner can add another owner")
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise InvalidInput("username", f"no user called {username!r}; create the account first")
    membership, created = Membership.objects.get_or_create(
        team=actor.team, user=user, defaults={"role": role}
    )
    if not created:
        raise Conflict(f"{username} is already a member of {actor.team}")
    audit_record(
        team=actor.team,
        action=AuditAction.MEMBER_ADDED,
        actor_user=actor.user,
        target=str(user),
        data={"role": role},
    )
    return membership


@transaction.atomic
def membership_set_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    _require_manager(actor)
    if role not in Role.values:
        raise InvalidInput("role", f"must be one of {', '.join(Role.values)}")
    if membership.team_id != actor.team_id:
        raise Forbidden("That member belongs to another team")
    touches_owner = Role.OWNER in (role, membership.role)
    if touches_owner and actor.role != Role.OWNER:
        raise Forbidden("Only an owner can grant or take away the owner role")
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = Membership.objects.select_for_update().filter(team=actor.team, role=Role.OWNER)
        if owners.count() <= 1:
            raise Conflict("A team needs at least one owner; make someone else owner first")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        team=actor.team,
        action=AuditAction.ROLE_CHANGED,
        actor_user=actor.user,
        target=str(membership.user),
        data={"from": old, "to": role},
    )
    return membership


@transaction.atomic
def team_set_agent_approval(*, actor: Membership, required: bool) -> Team:
    """Whether the team's agents wait for a person before using a card or submitting a payment
    form. Owners and admins decide; every change is audited."""
    if not actor.can_manage_team:
        raise Forbidden("Only team owners and admins can change whether agents ask for approval")
    team = Team.objects.select_for_update().get(pk=actor.team_id)
    if team.agent_approval_required != required:
        team.agent_approval_required = required
        team.save(update_fields=["agent_approval_required"])
        audit_record(
            team=team,
            action=AuditAction.AGENT_APPROVAL_CHANGED,
            actor_user=actor.user,
            data={"required": required},
        )
    return team


@transaction.atomic
def membership_remove(*, actor: Membership, membership: Membership) -> None:
    if membership.role == Role.OWNER:
        membership_set_role(actor=actor, membership=membership, role=Role.MEMBER)  # same checks
    else:
        _require_manager(actor)
    audit_record(
        team=actor.team,
        action=AuditAction.MEMBER_REMOVED,
        actor_user=actor.user,
        target=str(membership.user),
    )
    membership.delete()


def _clean_scopes(scopes: list[str] | None) -> list[str]:
    if scopes is None:
        return list(DEFAULT_SCOPES)
    unknown = sorted(set(scopes) - VALID_SCOPES)
    if unknown:
        raise InvalidInput(
            "scopes",
            f"unknown scope(s) {', '.join(unknown)}; valid: {', '.join(sorted(VALID_SCOPES))}",
        )
    if not scopes:
        raise InvalidInput("scopes", "a key needs at least one scope")
    return sorted(set(scopes))


@transaction.atomic
def api_key_create(
    *, team: Team, name: str, scopes: list[str] | None = None, actor: Membership | None = None
) -> tuple[ApiKey, str]:
    """Returns the key and its raw value, which is never stored and so shown only once."""
    if actor is not None:
        _require_manager(actor)
    name = name.strip() or "API key"
    raw, prefix = keys.generate()
    key = ApiKey.objects.create(
        team=team,
        name=name[:100],
        prefix=prefix,
        digest=keys.digest(raw),
        scopes=_clean_scopes(scopes),
        created_by=actor.user if actor else None,
    )
    audit_record(
        team=team,
        action=AuditAction.KEY_CREATED,
        actor_user=actor.user if actor else None,
        target=str(key),
        data={"scopes": key.scopes},
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, actor: Membership, api_key: ApiKey) -> ApiKey:
    _require_manager(actor)
    if api_key.team_id != actor.team_id:
        raise Forbidden("That key belongs to another team")
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        transaction.on_commit(lambda: key_cache.forget(api_key.pk))
        audit_record(
            team=actor.team,
            action=AuditAction.KEY_REVOKED,
            actor_user=actor.user,
            target=str(api_key),
        )
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@transaction.atomic
def bootstrap_first_run(
    *, username: str = "admin", team_name: str = "Default"
) -> dict[str, str] | None:
    """On an empty install: an admin user, a team and an API key. None when users exist."""
    User = get_user_model()
    if User.objects.exists():
        return None
    password = secrets.token_urlsafe(12)
    user = User.objects.create_superuser(username=username, password=password, email="")
    team = team_create(name=team_name, owner=user)
    owner = Membership.objects.get(team=team, user=user)
    _, raw = api_key_create(team=team, name="first key", actor=owner)
    return {"username": username, "password": password, "api_key": raw, "team": team.name}
