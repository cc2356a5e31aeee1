"""Another team's persona, mail or SMS answers exactly like one that does not exist."""

import uuid

import pytest

from personas_app.models import InboundEmail, Persona

from .helpers import message, send

pytestmark = pytest.mark.django_db(transaction=True)

PERSONA_ENDPOINTS = [
    ("GET", "/personas/{pid}", None),
    ("DELETE", "/personas/{pid}", None),
    ("GET", "/personas/{pid}/emails", None),
    ("GET", "/personas/{pid}/sms", None),
    ("POST", "/personas/{pid}/sms/number", {}),
    ("DELETE", "/personas/{pid}/sms/number", None),
]


@pytest.mark.parametrize(("method", "path", "body"), PERSONA_ENDPOINTS)
def test_another_teams_persona_answers_like_an_unknown_one(
    api, outsider_api, mail_server, persona, settings, method, path, body
):
    settings.PERISCOPE_SMS_NUMBERS = ["+15550000001"]
    pid = persona["persona_id"]
    send(mail_server, message(to=persona["email"], subject="secret 482913"))
    unknown = str(uuid.uuid4())

    theirs = outsider_api.request(method, path.format(pid=pid), json=body)
    missing = outsider_api.request(method, path.format(pid=unknown), json=body)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == {
        key: value.replace(unknown, pid) if isinstance(value, str) else value
        for key, value in missing.json().items()
    }
    assert "482913" not in theirs.text and persona["email"] not in theirs.text
    # Nothing happened to the persona or its mail.
    after = Persona.objects.get(pk=pid)
    assert after.is_active and after.phone_number is None
    assert InboundEmail.objects.get(persona_id=pid).read_at is None


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1", "00000000-0000-0000-0000-000000000000"])
def test_malformed_ids_are_404s_too(api, bad_id):
    response = api.get(f"/personas/{bad_id}")
    assert response.status_code == 404
    assert response.json()["message"] == f"Persona {bad_id} not found"


def test_lists_show_only_the_teams_own_personas(api, outsider_api):
    mine = api.post("/personas/create", json={}).json()["persona_id"]
    theirs = outsider_api.post("/personas/create", json={}).json()["persona_id"]
    assert [
        p["persona_id"] for p in api.get("/personas/", params={"only_active": "False"}).json()
    ] == [mine]
    assert [p["persona_id"] for p in outsider_api.get("/personas/").json()] == [theirs]
