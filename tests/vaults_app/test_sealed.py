"""Sealed mode: no keyring, an unreadable or malformed one, or the wrong one. Vault routes answer
503 saying how to unseal, write nothing, and the rest of Periscope keeps working."""

import io
import json
import os
import stat

import pytest
from django.core.management import call_command

from teams_app.services import api_key_create
from tests.vaults_app.helpers import KeyClient, row_counts
from vaults_app import keyring
from vaults_app.models import VaultKey
from vaults_app.unseal import vault_seal_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, team, owner):
    from teams_app.models import Membership

    _, raw = api_key_create(
        team=team,
        name="k",
        scopes=["vaults.use", "vaults.manage", "vaults.reveal"],
        actor=Membership.objects.get(user=owner),
    )
    return KeyClient(client, raw)


@pytest.fixture
def vault_id(api):
    vault_id = api.post("/vaults/create", {"name": "Main"}).json()["vault_id"]
    api.post(
        f"/vaults/{vault_id}/credentials",
        {"url": "example.com", "credentials": {"username": "u", "password": "pw"}},
    )
    return vault_id


def every_route(api, vault_id):
    return [
        api.get("/vaults/"),
        api.post("/vaults/create", {"name": "x"}),
        api.get(f"/vaults/{vault_id}"),
        api.post(
            f"/vaults/{vault_id}/credentials",
            {"url": "example.org", "credentials": {"username": "u", "password": "p"}},
        ),
        api.get(f"/vaults/{vault_id}/credentials", url="example.com"),
        api.delete(f"/vaults/{vault_id}/credentials", url="example.com"),
        api.post(
            f"/vaults/{vault_id}/card",
            {
                "credit_card": {
                    "card_holder_name": "A",
                    "card_number": "4242424242424242",
                    "card_cvv": "",
                    "card_full_expiration": "12/40",
                }
            },
        ),
        api.get(f"/vaults/{vault_id}/card"),
        api.delete(f"/vaults/{vault_id}/card"),
        api.delete(f"/vaults/{vault_id}"),
    ]


def assert_sealed_everywhere(client, api, vault_id, *words):
    before = row_counts()
    for response in every_route(api, vault_id):
        assert response.status_code == 503, (response.request["PATH_INFO"], response.content)
        message = response.json()["message"]
        assert message.startswith("Vaults are sealed") and "no restart is needed" in message
        for word in words:
            assert word in message
    assert row_counts() == before
    health = client.get("/api/health").json()
    assert health["vault"] == "sealed" and health["status"] == "healthy"


def test_no_keyring_at_all_on_a_new_install(client, api, keyring_file, vault_id):
    keyring_file.unlink()
    VaultKey.objects.all().delete()
    assert_sealed_everywhere(client, api, vault_id, "manage.py vault_keyring create")


def test_a_missing_keyring_once_data_exists_says_to_restore_it(client, api, keyring_file, vault_id):
    keyring_file.unlink()
    assert_sealed_everywhere(client, api, vault_id, "missing", "from a backup")


def test_a_wrong_keyring_is_caught_by_its_key_check_value_and_nothing_is_written(
    client, api, keyring_file, vault_id
):
    right = keyring.read(keyring_file)
    wrong = keyring.Keyring(
        active=right.active, keys={right.active: os.urandom(32)}, audit_key=right.audit_key
    )
    keyring.write(keyring_file, wrong)
    assert_sealed_everywhere(client, api, vault_id, right.active, "key-check")
    keyring.write(keyring_file, right)  # put back: unsealed again at once, no restart
    assert (
        api.get(f"/vaults/{vault_id}/credentials", url="example.com").json()["credentials"][
            "password"
        ]
        == "pw"
    )


def test_a_wrong_audit_key_seals_too(client, api, keyring_file, vault_id):
    right = keyring.read(keyring_file)
    keyring.write(
        keyring_file,
        keyring.Keyring(active=right.active, keys=right.keys, audit_key=os.urandom(32)),
    )
    assert_sealed_everywhere(client, api, vault_id, "audit")


def test_an_unreadable_keyring_seals(client, api, keyring_file, vault_id):
    # A directory in its place cannot be read by anyone, root included (the tests may run as root,
    # who ignores file modes).
    keyring_file.unlink()
    keyring_file.mkdir()
    assert_sealed_everywhere(client, api, vault_id, "cannot be read", "0600")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"format": "something else"}),
        json.dumps(
            {
                "format": "periscope-vault-keyring",
                "version": 1,
                "active": "k1",
                "keys": {"k1": "c2hvcnQ="},
                "audit_key": "c2hvcnQ=",
            }
        ),
    ],
    ids=["not json", "wrong format", "short key"],
)
def test_a_malformed_keyring_seals(client, api, keyring_file, vault_id, content):
    keyring_file.write_text(content)
    assert_sealed_everywhere(client, api, vault_id, "restore the keyring file")


def test_a_keyring_lacking_a_key_still_in_use_seals(client, api, keyring_file, vault_id):
    old = keyring.read(keyring_file)
    rotated = old.with_new_active_key()
    keyring.write(keyring_file, rotated)
    assert not vault_seal_status().sealed
    keyring.write(keyring_file, rotated.without_keys({old.active}))
    assert_sealed_everywhere(client, api, vault_id, old.active, "rotate_vault_keys")


def test_vault_keyring_create_makes_a_0600_file_in_a_0700_directory_and_never_overwrites(
    tmp_path, settings
):
    path = tmp_path / "fresh" / "secrets" / "keyring.json"
    settings.PERISCOPE_VAULT_KEYRING_FILE = path
    call_command("vault_keyring", "create", stdout=io.StringIO())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    before = path.read_bytes()
    call_command("vault_keyring", "create", "--if-missing", stdout=io.StringIO())
    assert path.read_bytes() == before
    with pytest.raises(Exception, match="never overwritten"):
        call_command("vault_keyring", "create", stdout=io.StringIO())


def test_vault_keyring_create_refuses_to_replace_a_lost_keyring(keyring_file, owner_actor, capsys):
    from vaults_app import services

    services.vault_create(actor=owner_actor, name="data")
    keyring_file.unlink()
    call_command("vault_keyring", "create", "--if-missing")
    assert not keyring_file.exists()
    assert "Put the original keyring file back" in capsys.readouterr().err


def test_the_database_holds_key_check_values_but_never_a_key(keyring_file, owner_actor):
    from vaults_app import services

    services.vault_create(actor=owner_actor, name="data")
    ring = keyring.read(keyring_file)
    stored = " ".join(f"{k.kid} {k.check_value}" for k in VaultKey.objects.all())
    for key in [*ring.keys.values(), ring.audit_key]:
        assert key.hex() not in stored and key.hex().upper() not in stored
        assert keyring.check_value(key) in stored


def test_keys_stay_out_of_logs_and_reprs(client, api, keyring_file, vault_id, caplog):
    import base64

    ring = keyring.read(keyring_file)
    keyring.write(
        keyring_file,
        keyring.Keyring(
            active=ring.active, keys={ring.active: os.urandom(32)}, audit_key=ring.audit_key
        ),
    )
    assert api.get("/vaults/").status_code == 503
    keyring_file.write_text("{broken")
    assert api.get("/vaults/").status_code == 503
    text = "\n".join(r.getMessage() for r in caplog.records) + repr(ring)
    assert "sealed" in text
    for key in [*ring.keys.values(), ring.audit_key]:
        assert base64.b64encode(key).decode() not in text and key.hex() not in text
