"""Shared set-up for the vault tests: actors of each role, keys with given scopes, a second team."""

import uuid

from teams_app.models import Membership, Role


def make_actor(team, user, *, reauthenticated: bool = False):
    from vaults_app.actors import actor_for_membership

    membership = Membership.objects.select_related("team", "user").get(team=team, user=user)
    return actor_for_membership(membership, reauthenticated=reauthenticated)


def add_member(
    team,
    django_user_model,
    role: str,
    username: str | None = None,
    password: str = "pass-for-tests-1",
):
    user = django_user_model.objects.create_user(
        username=username or f"{role}-{uuid.uuid4().hex[:6]}", password=password
    )
    Membership.objects.create(team=team, user=user, role=role)
    return user


def key_actor(team, scopes, created_by=None):
    from teams_app.services import api_key_create
    from vaults_app.actors import actor_for_api_key

    actor_membership = None
    if created_by is not None:
        actor_membership = Membership.objects.get(team=team, user=created_by)
        if actor_membership.role not in (Role.OWNER, Role.ADMIN):
            actor_membership = None
    key, raw = api_key_create(
        team=team, name="test key", scopes=list(scopes), actor=actor_membership
    )
    if created_by is not None and actor_membership is None:
        key.created_by = created_by
        key.save(update_fields=["created_by"])
    return actor_for_api_key(key), raw


def new_canary() -> str:
    return f"CANARY-{uuid.uuid4()}"
