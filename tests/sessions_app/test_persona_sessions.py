"""Sessions with a persona: a sign-up confirmed by mail end to end, SMS codes, and TOTP codes
filled from the persona's vault."""

import pyotp
import pytest

from personas_app.services import sms_receive
from personas_app.smtp import MailServer
from tests.sessions_app.helpers import in_page, start

pytestmark = pytest.mark.django_db(transaction=True)


def act(api, session: str, **action) -> dict:
    response = api.post(f"/sessions/{session}/page/execute", json=action)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def mail_server(live):
    server = live.call(lambda: MailServer(host="127.0.0.1", port=0).start())
    yield server
    live.call(server.stop)


def test_a_sign_up_is_confirmed_with_the_code_mailed_to_the_persona(api, live, site, mail_server):
    persona = api.post("/personas/create", json={}).json()
    site.smtp = ("127.0.0.1", mail_server.port)
    session = start(api, persona_id=persona["persona_id"])["session_id"]
    act(api, session, type="goto", url=f"{site.url}/signup.html")
    act(api, session, type="fill", selector="#signup-email", value=persona["email"])
    act(api, session, type="click", selector="#create")

    read = act(api, session, type="email_read", limit=5, only_unread=True)
    assert read["success"] is True
    [message] = read["data"]["structured"]["data"]
    assert message["sender_email"] == "no-reply@harbour-light.test"
    code = message["codes"][0]
    assert code == site.signups[persona["email"]]["code"] and code in read["data"]["markdown"]
    assert (
        act(api, session, type="email_read", only_unread=True)["data"]["structured"]["data"] == []
    )  # read once

    act(api, session, type="fill", selector="#code", value=code)
    act(api, session, type="click", selector="#confirm")
    assert site.signups[persona["email"]]["confirmed"] is True
    page = api.post(f"/sessions/{session}/page/scrape", json={}).json()["markdown"]
    assert "Account confirmed" in page


def test_without_a_persona_reading_mail_says_how_to_get_one(api):
    session = start(api)["session_id"]
    result = act(api, session, type="email_read")
    assert result["success"] is False and "persona_id" in result["message"]


def test_sms_codes_are_read_by_the_session_of_the_persona(api, settings):
    settings.PERISCOPE_SMS_NUMBERS = ["+15550000042"]
    persona = api.post("/personas/create", json={"create_phone_number": True}).json()
    sms_receive(
        to_number="+15550000042",
        sender="+15551234567",
        body="Your login code: 417263",
        provider_sid="SM-test-1",
    )
    session = start(api, persona_id=persona["persona_id"])["session_id"]
    [sms] = act(api, session, type="sms_read")["data"]["structured"]["data"]
    assert sms["codes"] == ["417263"] and sms["sender"] == "+15551234567"


def test_a_persona_of_another_team_cannot_be_named(api, outsider_api):
    theirs = outsider_api.post("/personas/create", json={}).json()
    response = api.post("/sessions/start", json={"persona_id": theirs["persona_id"]})
    assert response.status_code == 422 and "persona_id" in response.json()["message"]


def test_the_totp_placeholder_is_filled_with_the_current_code(api, live, site, vault_keyring):
    secret = pyotp.random_base32()
    persona = api.post("/personas/create", json={"create_vault": True}).json()
    vault = persona["vault_id"]
    api.post(
        f"/vaults/{vault}/credentials",
        json={
            "url": "127.0.0.1",
            "credentials": {
                "email": persona["email"],
                "password": "not-used-here-1",
                "mfa_secret": secret,
            },
        },
    )
    session = start(api, vault_id=vault)["session_id"]  # the persona's vault names the persona too
    act(api, session, type="goto", url=f"{site.url}/signup.html")
    in_page(
        live,
        session,
        "document.querySelector('#signup-email').setAttribute('autocomplete', 'one-time-code')",
    )
    in_page(live, session, "document.querySelector('#signup-email').type = 'text'")
    assert act(api, session, type="multi_factor_fill", selector="#signup-email", value="999779")[
        "success"
    ]
    typed = in_page(live, session, "document.querySelector('#signup-email').value")
    assert pyotp.TOTP(secret).verify(typed, valid_window=1)
    assert api.get(f"/sessions/{session}").json()["steps"][-1]["action"]["value"] == "********"


def test_the_persona_page_lists_the_sessions_that_read_its_mail(
    api, client, owner, django_user_model
):
    from django.urls import reverse

    from teams_app.services import team_create

    persona = api.post("/personas/create", json={}).json()
    session = start(api, persona_id=persona["persona_id"])["session_id"]
    start(api)  # another session, without the persona
    client.force_login(owner)
    listed = client.get(
        reverse("sessions_app:of_persona", args=[persona["persona_id"]])
    ).content.decode()
    assert session[:8] in listed and listed.count("<li>") == 1
    outsider = django_user_model.objects.create_user(
        username="mallory", password="mallory-pass-123"
    )
    team_create(name="Elsewhere", owner=outsider)
    client.force_login(outsider)
    assert (
        session[:8]
        not in client.get(
            reverse("sessions_app:of_persona", args=[persona["persona_id"]])
        ).content.decode()
    )
