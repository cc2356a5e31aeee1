"""Against a real server (uvicorn, embedded worker, Chromium): notte-sdk 1.8.28's vault calls,
and sealed vaults next to sessions that keep working."""

import pyotp
import pytest
import requests
from notte_sdk import NotteClient
from notte_sdk.errors import NotteAPIError

from teams_app.models import Membership
from teams_app.services import api_key_create
from tests.sessions_app.helpers import wait_until
from tests.vaults_app.helpers import luhn_number, new_canary
from vaults_app.models import VaultAuditEvent, VaultTeamSettings

pytestmark = pytest.mark.django_db(transaction=True)


def make_key(team, owner, scopes) -> str:
    _, raw = api_key_create(
        team=team, name="sdk", scopes=scopes, actor=Membership.objects.get(user=owner)
    )
    return raw


def test_notte_sdk_vault_flow(live, team, owner):
    manage = NotteClient(
        api_key=make_key(team, owner, ["vaults.use", "vaults.manage"]), server_url=live.api_url
    )
    reveal = NotteClient(
        api_key=make_key(team, owner, ["vaults.use", "vaults.reveal"]), server_url=live.api_url
    )
    VaultTeamSettings.objects.create(team=team, store_cvv=True)
    password, secret = new_canary(), pyotp.random_base32()

    vault = manage.Vault(name="sdk vault")  # POST /vaults/create
    vault_id = vault.vault_id
    assert [v.vault_id for v in manage.vaults.list()] == [vault_id]
    assert (
        manage.vaults.add_or_update_credentials(
            vault_id,
            url="https://login.example.com/signin",
            email="me@example.com",
            password=password,
            mfa_secret=secret,
        ).status
        == "success"
    )
    assert (
        manage.vaults.add_or_update_credentials(
            vault_id, url="example.org", username="bob", password="pw"
        ).status
        == "success"
    )
    listed = manage.vaults.list_credentials(vault_id).credentials
    assert sorted((c.url, c.username, c.email) for c in listed) == [
        ("example.com", None, "me@example.com"),
        ("example.org", "bob", None),
    ]  # the SDK sends root domains

    with pytest.raises(NotteAPIError) as refused:
        manage.vaults.get_credentials(vault_id, url="https://example.com")
    assert refused.value.status_code == 403 and "vaults.reveal" in str(refused.value)
    got = reveal.vaults.get_credentials(vault_id, url="https://example.com").credentials
    assert got == {"email": "me@example.com", "password": password, "mfa_secret": secret}

    card = {
        "card_holder_name": "Jo Doe",
        "card_number": luhn_number(),
        "card_cvv": "123",
        "card_full_expiration": "12/38",
    }
    assert manage.vaults.set_credit_card(vault_id, **card).status == "success"
    with pytest.raises(NotteAPIError):
        manage.vaults.get_credit_card(vault_id)
    assert dict(reveal.vaults.get_credit_card(vault_id).credit_card) == card
    assert manage.vaults.delete_credit_card(vault_id).status == "success"

    assert manage.vaults.delete_credentials(vault_id, url="example.org").status == "success"
    assert [c.url for c in manage.vaults.list_credentials(vault_id).credentials] == ["example.com"]
    assert manage.vaults.delete(vault_id).status == "success"
    assert manage.vaults.list() == []
    reveals = VaultAuditEvent.objects.filter(action__in=["credential.revealed", "card.revealed"])
    assert sorted(reveals.values_list("outcome", flat=True)) == ["denied", "denied", "ok", "ok"]


def test_sealed_vaults_answer_503_while_sessions_keep_working(
    live, team, owner, api_key, keyring_file
):
    headers = {
        "Authorization": f"Bearer {make_key(team, owner, ['vaults.use', 'vaults.manage', 'sessions'])}"
    }
    vault_id = requests.post(
        f"{live.api_url}/vaults/create", json={"name": "v"}, headers=headers, timeout=30
    ).json()["vault_id"]
    assert requests.get(f"{live.api_url}/health", timeout=30).json()["vault"] == "unsealed"

    keyring_file.unlink()
    # Health answers from checks a couple of seconds old at most (probes must stay cheap).
    health = wait_until(
        lambda: (
            (r := requests.get(f"{live.api_url}/health", timeout=30)).json()["vault"] == "sealed"
            and r
        )
    )
    assert health and health.status_code == 200
    sealed = requests.post(
        f"{live.api_url}/vaults/{vault_id}/credentials",
        headers=headers,
        timeout=30,
        json={"url": "example.com", "credentials": {"username": "u", "password": "p"}},
    )
    assert sealed.status_code == 503 and "Vaults are sealed" in sealed.json()["message"]

    started = requests.post(
        f"{live.api_url}/sessions/start", json={"headless": True}, headers=headers, timeout=60
    )
    assert started.status_code == 200 and started.json()["status"] == "active"
    stopped = requests.delete(
        f"{live.api_url}/sessions/{started.json()['session_id']}/stop", headers=headers, timeout=60
    )
    assert stopped.json()["status"] == "closed"
