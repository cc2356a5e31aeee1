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


class KeyClient:
    """The Django test client speaking to /api with one API key: api.get('/vaults/')."""

    def __init__(self, client, raw_key: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {raw_key}"}

    def get(self, path, **params):
        return self.client.get(f"/api{path}", params, headers=self.headers)

    def delete(self, path, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.client.delete(f"/api{path}{'?' + query if query else ''}", headers=self.headers)

    def post(self, path, body=None):
        import json

        return self.client.post(
            f"/api{path}",
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self.headers,
        )


def row_counts() -> dict[str, int]:
    """Rows in every vault table: a refused request must leave them all unchanged."""
    from vaults_app.models import (
        Vault,
        VaultAuditEvent,
        VaultAuditHead,
        VaultCard,
        VaultCredential,
        VaultTeamSettings,
    )

    return {
        m.__name__: m.objects.count()
        for m in (
            Vault,
            VaultCredential,
            VaultCard,
            VaultTeamSettings,
            VaultAuditEvent,
            VaultAuditHead,
        )
    }


def luhn_number(prefix: str = "4", length: int = 16) -> str:
    """A random card number that passes the Luhn check (a unique canary that still validates)."""
    import secrets

    from vaults_app.validation import luhn_ok

    body = prefix + "".join(secrets.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()  # 32 characters, 160 bits


def bulk_logins(vault, count: int, *, password: str = "pw-bulk") -> None:
    """`count` logins sealed under the active key and inserted in bulk (what credential_put does,
    without an audit row each): enough items to make a rotation take a while."""
    from vaults_app import crypto
    from vaults_app.items import count_wraps, item_context
    from vaults_app.models import VaultCredential
    from vaults_app.unseal import vault_keyring

    keyring = vault_keyring()
    kek = keyring.aead(keyring.active)
    rows = []
    for i in range(count):
        item = VaultCredential(vault=vault, url=f"site{i}.example.com", username=f"user{i}")
        ctx = item_context(item, vault.team_id)
        dek = crypto.new_data_key()
        item.kek_id = keyring.active
        item.wrapped_dek = crypto.wrap_data_key(kek, dek, ctx)
        item.password_ct = crypto.seal_field(dek, ctx, "password", f"{password}-{i}")
        rows.append(item)
    VaultCredential.objects.bulk_create(rows, batch_size=1000)
    count_wraps(keyring.active, count)
