"""Stored secrets exist only as ciphertext: a database dump, a `dumpdata` backup, the logs and
every non-reveal answer hold none of them, in any encoding."""

import io
import logging
import re
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection

from teams_app.models import Membership
from teams_app.services import api_key_create
from tests.support.leaks import find_leaks
from tests.vaults_app.helpers import KeyClient, luhn_number, new_canary, totp_secret
from vaults_app.models import VaultTeamSettings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def canaries():
    return {
        "password": new_canary(),
        "mfa_secret": totp_secret(),
        "card_number": luhn_number(),
        "holder": new_canary(),
        "cvv": "4817",
    }


@pytest.fixture
def stored(client, team, owner, canaries, caplog):
    """The canaries stored through the API, used in a fill and revealed, with every log record kept."""
    caplog.set_level(logging.DEBUG)
    VaultTeamSettings.objects.create(team=team, store_cvv=True)
    _, raw = api_key_create(
        team=team,
        name="k",
        scopes=["vaults.use", "vaults.manage", "vaults.reveal"],
        actor=Membership.objects.get(user=owner),
    )
    api = KeyClient(client, raw)
    vault_id = api.post("/vaults/create", {"name": "Leaky?"}).json()["vault_id"]
    assert (
        api.post(
            f"/vaults/{vault_id}/credentials",
            {
                "url": "example.com",
                "credentials": {
                    "username": "u",
                    "password": canaries["password"],
                    "mfa_secret": canaries["mfa_secret"],
                },
            },
        ).status_code
        == 200
    )
    assert (
        api.post(
            f"/vaults/{vault_id}/card",
            {
                "credit_card": {
                    "card_holder_name": canaries["holder"],
                    "card_number": canaries["card_number"],
                    "card_cvv": canaries["cvv"],
                    "card_full_expiration": "10/39",
                }
            },
        ).json()["cvv_stored"]
        is True
    )
    revealed = api.get(f"/vaults/{vault_id}/credentials", url="example.com").json()
    assert (
        revealed["credentials"]["password"] == canaries["password"]
    )  # the control: the value is there
    assert (
        api.get(f"/vaults/{vault_id}/card").json()["credit_card"]["card_number"]
        == canaries["card_number"]
    )
    not_revealed = [
        api.get("/vaults/").content,
        api.get(f"/vaults/{vault_id}").content,
        api.post(
            f"/vaults/{vault_id}/credentials",
            {"url": "bad url!", "credentials": {"username": "u", "password": canaries["password"]}},
        ).content,
    ]
    return {"api": api, "vault_id": vault_id, "answers": not_revealed}


def _sqlite_dump() -> str:
    if shutil.which("sqlite3"):
        return subprocess.run(
            ["sqlite3", str(connection.settings_dict["NAME"]), ".dump"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return "\n".join(connection.connection.iterdump())


def _pg_dump() -> str:
    db = connection.settings_dict
    env = {"PGPASSWORD": db["PASSWORD"] or ""}
    return subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            db["HOST"] or "127.0.0.1",
            "-p",
            str(db["PORT"] or 5432),
            "-U",
            db["USER"],
            db["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout


def database_dump() -> str:
    dump = _pg_dump() if connection.vendor == "postgresql" else _sqlite_dump()
    assert (
        "vaults_app_vaultcredential" in dump and "Leaky?" in dump
    )  # it covers the vault tables and rows
    return dump


def assert_no_secret(canaries: dict, *haystacks, where: str) -> None:
    for name, value in canaries.items():
        if name == "cvv":
            # Four digits occur by chance inside hex ids, MACs and base64: look for the CVV as a
            # value of its own (not inside a longer run of letters and digits).
            for haystack in haystacks:
                text = (
                    haystack.decode(errors="replace") if isinstance(haystack, bytes) else haystack
                )
                assert not re.search(rf"(?<![0-9A-Za-z+/=]){value}(?![0-9A-Za-z+/=])", text), (
                    name,
                    where,
                )
            continue
        assert find_leaks(value, *haystacks, where=where) == [], name


def test_the_database_dump_holds_no_secret_in_any_encoding(stored, canaries):
    assert_no_secret(canaries, database_dump(), where="database dump")


def test_a_dumpdata_backup_holds_no_secret(stored, canaries):
    backup = io.StringIO()
    call_command("dumpdata", "vaults_app", stdout=backup)
    assert "vaults_app.vaultcredential" in backup.getvalue()
    assert_no_secret(canaries, backup.getvalue(), where="dumpdata")


def test_logs_and_non_reveal_answers_hold_no_secret(stored, canaries, caplog):
    records = caplog.get_records("setup") + caplog.records
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)
    assert "Unprocessable" in logs  # the refused request was logged, so the check means something
    assert_no_secret(canaries, logs, *stored["answers"], where="logs and answers")


def test_the_cvv_check_finds_a_cvv_on_its_own():
    with pytest.raises(AssertionError):
        assert_no_secret({"cvv": "4817"}, '{"card_cvv": "4817"}', where="control")
    assert_no_secret({"cvv": "4817"}, "a9f4817be3 ZmF4817x", where="control")
