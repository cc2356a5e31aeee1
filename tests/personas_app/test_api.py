"""The personas API over HTTP: shapes the Notte client needs, errors, numbers, reading mail."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from personas_app.models import InboundEmail, InboundSms, Persona
from teams_app.services import api_key_create
from tests.conftest import Api

from .helpers import message, send

pytestmark = pytest.mark.django_db(transaction=True)

NUMBERS = ["+15550000001", "+15550000002"]


def test_create_get_and_list(api, settings):
    created = api.post(
        "/personas/create", json={"create_vault": False, "create_phone_number": False}
    )
    assert created.status_code == 200
    persona = created.json()
    assert set(persona) >= {
        "persona_id",
        "status",
        "first_name",
        "last_name",
        "email",
        "vault_id",
        "phone_number",
    }
    assert persona["status"] == "active"
    assert persona["vault_id"] is None and persona["phone_number"] is None
    assert persona["first_name"] and persona["last_name"]
    local, domain = persona["email"].split("@")
    assert domain == settings.PERISCOPE_MAIL_DOMAIN
    assert local.startswith(f"{persona['first_name'].lower()}.{persona['last_name'].lower()}.")

    assert api.get(f"/personas/{persona['persona_id']}").json() == persona
    for path in ("/personas/", "/personas"):
        listed = api.get(path, params={"only_active": "True", "page": 1, "page_size": 10})
        assert [p["persona_id"] for p in listed.json()] == [persona["persona_id"]]


def test_an_empty_body_creates_a_persona(api):
    assert api.post("/personas/create").json()["status"] == "active"


def test_list_pages_and_deleted_personas(api):
    ids = [api.post("/personas/create", json={}).json()["persona_id"] for _ in range(3)]
    api.delete(f"/personas/{ids[0]}")
    active = [p["persona_id"] for p in api.get("/personas/").json()]
    assert active == [ids[2], ids[1]]  # newest first
    everyone = api.get(
        "/personas/", params={"only_active": "False", "page_size": 2, "page": 2}
    ).json()
    assert [(p["persona_id"], p["status"]) for p in everyone] == [(ids[0], "closed")]
    bad = api.get("/personas/", params={"page_size": 1000})
    assert bad.status_code == 422 and "page_size" in bad.json()["message"]


def test_create_vault_gives_the_persona_a_vault_of_its_own(api, vault_keyring):
    persona = api.post("/personas/create", json={"create_vault": True}).json()
    assert persona["vault_id"]
    vault = api.get(f"/vaults/{persona['vault_id']}")
    assert vault.status_code == 200 and vault.json() == {"credentials": []}
    listed = {v["vault_id"]: v for v in api.get("/vaults/").json()}
    assert listed[persona["vault_id"]]["for_persona"] is True
    assert persona["email"] in listed[persona["vault_id"]]["name"]


def test_create_vault_with_the_vaults_sealed_creates_nothing(api, settings, tmp_path):
    settings.PERISCOPE_VAULT_KEYRING_FILE = tmp_path / "no-such-keyring.json"
    response = api.post("/personas/create", json={"create_vault": True})
    assert response.status_code == 503
    assert "keyring" in response.json()["message"]
    assert Persona.objects.count() == 0


def test_phone_number_without_a_pool_says_how_to_set_one(api, settings):
    settings.PERISCOPE_SMS_NUMBERS = []
    response = api.post("/personas/create", json={"create_phone_number": True})
    assert response.status_code == 422
    assert "PERISCOPE_SMS_NUMBERS" in response.json()["message"]
    assert Persona.objects.count() == 0  # nothing half-written
    persona = api.post("/personas/create", json={}).json()
    response = api.post(f"/personas/{persona['persona_id']}/sms/number", json={})
    assert response.status_code == 422 and "PERISCOPE_SMS_NUMBERS" in response.json()["message"]


def test_numbers_come_from_the_pool_one_persona_each_and_are_freed_on_delete(api, settings):
    settings.PERISCOPE_SMS_NUMBERS = NUMBERS
    first = api.post("/personas/create", json={"create_phone_number": True}).json()
    second = api.post("/personas/create", json={"create_phone_number": True}).json()
    assert {first["phone_number"], second["phone_number"]} == set(NUMBERS)

    full = api.post("/personas/create", json={"create_phone_number": True})
    assert full.status_code == 409
    assert "held by personas" in full.json()["message"]

    assert api.delete(f"/personas/{first['persona_id']}").json()["status"] == "success"
    third = api.post("/personas/create", json={"create_phone_number": True}).json()
    assert third["phone_number"] == first["phone_number"]


def test_number_routes_assign_keep_and_release(api, settings):
    settings.PERISCOPE_SMS_NUMBERS = NUMBERS[:1]
    pid = api.post("/personas/create", json={}).json()["persona_id"]
    assigned = api.post(f"/personas/{pid}/sms/number", json={})
    assert assigned.status_code == 200
    assert assigned.json()["phone_number"] == NUMBERS[0] and assigned.json()["status"] == "success"
    again = api.post(f"/personas/{pid}/sms/number", json={}).json()
    assert again["phone_number"] == NUMBERS[0]  # it keeps its number
    assert api.get(f"/personas/{pid}").json()["phone_number"] == NUMBERS[0]

    released = api.delete(f"/personas/{pid}/sms/number")
    assert released.status_code == 200 and released.json()["status"] == "success"
    assert api.get(f"/personas/{pid}").json()["phone_number"] is None
    assert api.delete(f"/personas/{pid}/sms/number").json()["status"] == "failure"


def test_delete_removes_mail_and_sms_keeps_the_address_reserved(api, mail_server, settings):
    settings.PERISCOPE_SMS_NUMBERS = NUMBERS[:1]
    persona = api.post("/personas/create", json={"create_phone_number": True}).json()
    pid = persona["persona_id"]
    send(mail_server, message(to=persona["email"]))
    InboundSms.objects.create(
        persona_id=pid, sender="+15557654321", to_number=NUMBERS[0], body="hi", provider_sid="SM1"
    )

    deleted = api.delete(f"/personas/{pid}")
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "success"
    assert InboundEmail.objects.count() == InboundSms.objects.count() == 0

    after = api.get(f"/personas/{pid}").json()
    assert after["status"] == "closed" and after["phone_number"] is None
    assert after["email"] == persona["email"]  # never handed to anyone else
    assert api.get(f"/personas/{pid}/emails").json() == []
    again = api.delete(f"/personas/{pid}")
    assert again.status_code == 200
    assert again.json()["status"] == "failure" and "already deleted" in again.json()["message"]


def test_reading_marks_read_and_filters(api, mail_server, persona):
    pid = persona["persona_id"]
    for n in range(3):
        send(mail_server, message(to=persona["email"], subject=f"mail {n}"))
    old = InboundEmail.objects.get(subject="mail 0")
    old.created_at = timezone.now() - timedelta(hours=2)
    old.save()

    assert [
        e["subject"] for e in api.get(f"/personas/{pid}/emails", params={"limit": 1}).json()
    ] == ["mail 2"]
    unread = api.get(f"/personas/{pid}/emails", params={"only_unread": "True"}).json()
    assert [e["subject"] for e in unread] == ["mail 1", "mail 0"]  # "mail 2" was read above
    assert api.get(f"/personas/{pid}/emails", params={"only_unread": "True"}).json() == []
    # The SDK sends str(timedelta); other clients seconds or ISO 8601.
    for recent in ("1:00:00", "3600", "PT1H", "3600.5"):
        listed = api.get(f"/personas/{pid}/emails", params={"timedelta": recent}).json()
        assert [e["subject"] for e in listed] == ["mail 2", "mail 1"], recent
    listed = api.get(f"/personas/{pid}/emails", params={"timedelta": "1 day, 0:00:00"}).json()
    assert len(listed) == 3


@pytest.mark.parametrize("bad", ["soon", "-5", "0"])
def test_a_bad_timedelta_is_a_clear_422(api, persona, bad):
    response = api.get(f"/personas/{persona['persona_id']}/emails", params={"timedelta": bad})
    assert response.status_code == 422
    assert "timedelta" in response.json()["message"]


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_is_bounded(api, persona, limit):
    assert (
        api.get(f"/personas/{persona['persona_id']}/sms", params={"limit": limit}).status_code
        == 422
    )


def test_a_key_without_the_personas_scope_is_refused(live, team):
    _, raw = api_key_create(team=team, name="sessions only", scopes=["sessions"])
    with Api(live.api_url, raw) as client:
        response = client.post("/personas/create", json={})
    assert response.status_code == 403
    assert "'personas' scope" in response.json()["message"]
    assert Persona.objects.count() == 0


def test_no_key_is_401(live):
    response = requests.post(f"{live.api_url}/personas/create", json={}, timeout=10)
    assert response.status_code == 401


def test_a_deleted_persona_gets_no_number(api, settings):
    settings.PERISCOPE_SMS_NUMBERS = NUMBERS
    pid = api.post("/personas/create", json={}).json()["persona_id"]
    api.delete(f"/personas/{pid}")
    response = api.post(f"/personas/{pid}/sms/number", json={})
    assert response.status_code == 409
    assert "deleted" in response.json()["message"]
    assert Persona.objects.get(pk=pid).phone_number is None
