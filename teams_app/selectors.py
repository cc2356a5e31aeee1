from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from . import keys
from .models import ApiKey, AuditEvent, Membership, Team

# The Django session key that remembers which of their teams a console user works in.
SESSION_KEY = "periscope_team_id"


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    """The active key for this raw value, or None. Constant-time digest comparison."""
    prefix = keys.prefix_of(raw)
    if prefix is None:
        return None
    key = ApiKey.objects.select_related("team").filter(prefix=prefix).first()
    if key is None or not keys.matches(raw, key.digest) or key.revoked_at is not None:
        return None
    if key.expires_at is not None and key.expires_at <= timezone.now():
        return None
    return key


def membership_list_for_user(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("team").order_by("team__name")


def membership_get(*, user: AbstractBaseUser, team_id: str | None) -> Membership | None:
    memberships = membership_list_for_user(user=user)
    if team_id:
        found = memberships.filter(team_id=team_id).first()
        if found:
            return found
    return memberships.first()


def membership_in_team(*, team_id, user_id) -> Membership | None:
    """The user's membership of this team (with the user), or None."""
    return (
        Membership.objects.filter(team_id=team_id, user_id=user_id).select_related("user").first()
    )


def api_key_of_team(*, team_id, key_id) -> ApiKey | None:
    """The key as stored, revoked or expired ones included (the caller judges), or None when
    it does not exist or belongs to another team."""
    return ApiKey.objects.filter(pk=key_id, team_id=team_id).first()


def membership_list_for_team(*, team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("user__username")


def api_key_list_for_team(*, team: Team) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(team=team).select_related("created_by")


def audit_list_for_team(*, team: Team, limit: int = 100) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(team=team).select_related("actor_user", "actor_key")[:limit]
    )


def membership_for_console(*, user, session) -> Membership | None:
    """The membership a console connection acts in: the team picked in its Django session."""
    if user is None or not user.is_authenticated:
        return None
    return membership_get(
        user=user, team_id=session.get(SESSION_KEY) if session is not None else None
    )
