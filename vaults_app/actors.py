"""Who is acting on a vault, and what they may do: deny by default.

| may...                                   | owner | admin | member | viewer | API key                      |
|------------------------------------------|-------|-------|--------|--------|------------------------------|
| see vault names, sites, usernames        | yes   | yes   | yes    | yes    | vaults.use or vaults.manage  |
| see use counts, card brand/last 4/expiry | yes   | yes   | yes    | -      | vaults.use or vaults.manage  |
| fill from a vault in a session (use)     | yes   | yes   | yes    | -      | vaults.use                   |
| create/rename/delete vaults, edit items  | yes   | yes   | -      | -      | vaults.manage                |
| change the team's vault settings         | yes   | yes   | -      | -      | -                            |
| reveal a secret                          | after re-entering the password | - | - | vaults.reveal, made by an owner or admin who still is one |
| read the vault audit log                 | yes   | yes   | -      | -      | -                            |
"""

from dataclasses import dataclass
from enum import StrEnum

from teams_app.models import ApiKey, Membership, Role, Scope, Team


class Permission(StrEnum):
    VIEW = "view"
    DETAILS = "details"
    USE = "use"
    MANAGE = "manage"
    SETTINGS = "settings"
    REVEAL = "reveal"
    AUDIT = "audit"


_ROLE_PERMISSIONS = {
    Role.OWNER: set(Permission),
    Role.ADMIN: set(Permission),
    Role.MEMBER: {Permission.VIEW, Permission.DETAILS, Permission.USE},
    Role.VIEWER: {Permission.VIEW},
}


@dataclass(frozen=True)
class VaultActor:
    team: Team
    kind: str  # "user" | "key" | "system"
    id: str
    label: str
    role: str | None = None  # a user's role; for a key, its creator's current role
    scopes: frozenset[str] = frozenset()
    reauthenticated: bool = False  # a console user who just re-entered their password

    def can(self, permission: Permission) -> bool:
        if self.kind == "system":
            return permission != Permission.REVEAL
        if self.kind == "user":
            allowed = permission in _ROLE_PERMISSIONS.get(self.role, set())
            return allowed and (permission != Permission.REVEAL or self.reauthenticated)
        if self.kind == "key":
            return self._key_can(permission)
        return False

    def _key_can(self, permission: Permission) -> bool:
        reads = {Scope.VAULTS_USE, Scope.VAULTS_MANAGE} & self.scopes
        match permission:
            case Permission.VIEW | Permission.DETAILS:
                return bool(reads)
            case Permission.USE:
                return Scope.VAULTS_USE in self.scopes
            case Permission.MANAGE:
                return Scope.VAULTS_MANAGE in self.scopes
            case Permission.REVEAL:
                return Scope.VAULTS_REVEAL in self.scopes and self.role in (Role.OWNER, Role.ADMIN)
        return False

    def refusal(self, permission: Permission) -> str:
        """Why `can(permission)` is False, in words that say what to change."""
        if self.kind == "key":
            match permission:
                case Permission.VIEW | Permission.DETAILS:
                    return "This API key lacks the 'vaults.use' or 'vaults.manage' scope; use a key that has one"
                case Permission.USE:
                    return (
                        "This API key lacks the 'vaults.use' scope, so it cannot fill from vaults"
                    )
                case Permission.MANAGE:
                    return "This API key lacks the 'vaults.manage' scope; use a key that has it to change vaults"
                case Permission.REVEAL if Scope.VAULTS_REVEAL not in self.scopes:
                    return (
                        "Reading a secret back needs an API key with the 'vaults.reveal' scope, created by a "
                        "team owner or admin. Sessions can fill from the vault without it"
                    )
                case Permission.REVEAL:
                    return (
                        "This key has the 'vaults.reveal' scope, but whoever created it is no longer an owner "
                        "or admin of the team; an owner or admin must create a new key"
                    )
            return "This API key may not do that"
        if permission == Permission.REVEAL and self.role in (Role.OWNER, Role.ADMIN):
            return "Re-enter your password to reveal a secret"
        return {
            Permission.DETAILS: "Viewers see vault names and usernames only",
            Permission.USE: "Viewers cannot use vaults",
            Permission.MANAGE: "Only team owners and admins can change vaults",
            Permission.SETTINGS: "Only team owners and admins can change vault settings",
            Permission.REVEAL: "Only team owners and admins can reveal secrets",
            Permission.AUDIT: "Only team owners and admins can read the vault audit log",
        }.get(permission, "You may not do that")


def actor_for_membership(membership: Membership, *, reauthenticated: bool = False) -> VaultActor:
    user = membership.user
    return VaultActor(
        team=membership.team,
        kind="user",
        id=str(user.pk),
        label=user.get_username(),
        role=membership.role,
        reauthenticated=reauthenticated,
    )


def actor_for_api_key(key: ApiKey) -> VaultActor:
    role = None
    if key.created_by_id is not None:
        role = (
            Membership.objects.filter(team_id=key.team_id, user_id=key.created_by_id)
            .values_list("role", flat=True)
            .first()
        )
    return VaultActor(
        team=key.team,
        kind="key",
        id=str(key.pk),
        label=f"key {key.name} (nk_{key.prefix})",
        role=role,
        scopes=frozenset(key.scopes),
    )


def system_actor(team: Team, label: str = "system") -> VaultActor:
    return VaultActor(team=team, kind="system", id="", label=label)
