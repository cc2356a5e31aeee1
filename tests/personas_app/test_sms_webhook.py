"""SMS arrive by the provider's webhook (Twilio's format), signed with the account's auth token."""

import pytest
import requests

from personas_app.models import InboundSms
from personas_app.sms_signature import twilio_signature, twilio_signature_valid

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "test-auth-token-0123456789abcdef"
NUMBER = "+15550000001"


@pytest.fixture
def sms_settings(settings):
    settings.PERISCOPE_SMS_AUTH_TOKEN = TOKEN
    settings.PERISCOPE_SMS_NUMBERS = [NUMBER]
    return settings


@pytest.fixture
def holder(api, sms_settings):
    return api.post("/personas/create", json={"create_phone_number": True}).json()


def twilio_form(
    body="Your Acme code is 482913", to=NUMBER, sid="SM0123456789abcdef0123456789abcdef"
):
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "From": "+15557654321",
        "To": to,
        "Body": body,
        "MessageSid": sid,
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def post(live, form, *, signed_url=None, token=TOKEN, signature=None):
    url = f"{live.api_url}/personas/sms/inbound"
    if signature is None:
        signature = twilio_signature(url=signed_url or url, params=form.items(), auth_token=token)
    return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)


def test_twilio_published_signature_examples():
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    assert (
        twilio_signature(url=url, params=params.items(), auth_token="12345")
        == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    repeated = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]
    assert (
        twilio_signature(url=url, params=repeated, auth_token="12345")
        == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    )
    # The same request signed with the default port written out is accepted too.
    with_port = twilio_signature(
        url=url.replace(".com/", ".com:443/"), params=params.items(), auth_token="12345"
    )
    assert twilio_signature_valid(
        url=url, params=params.items(), auth_token="12345", signature=with_port
    )
    assert not twilio_signature_valid(
        url=url, params=params.items(), auth_token="54321", signature="RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def test_a_signed_sms_is_stored_with_its_code_and_read_through_the_api(api, live, holder):
    response = post(live, twilio_form())
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert "<Response>" in response.text

    [sms] = api.get(f"/personas/{holder['persona_id']}/sms").json()
    assert sms["body"] == "Your Acme code is 482913"
    assert sms["sender"] == "+15557654321"
    assert sms["codes"] == ["482913"]
    assert set(sms) >= {"sms_id", "body", "created_at", "sender"}


def test_a_retried_delivery_is_stored_once(live, holder):
    assert post(live, twilio_form()).status_code == 200
    assert post(live, twilio_form()).status_code == 200
    assert InboundSms.objects.count() == 1


@pytest.mark.parametrize("tamper", ["signature", "body", "token", "missing"])
def test_without_a_valid_signature_it_is_403_and_nothing_is_stored(live, holder, tamper):
    form = twilio_form()
    if tamper == "signature":
        response = post(live, form, signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    elif tamper == "body":  # signed, then changed on the way
        url = f"{live.api_url}/personas/sms/inbound"
        signature = twilio_signature(url=url, params=form.items(), auth_token=TOKEN)
        response = post(live, {**form, "Body": "Your code is 000000"}, signature=signature)
    elif tamper == "token":
        response = post(live, form, token="some-other-token")
    else:
        response = requests.post(f"{live.api_url}/personas/sms/inbound", data=form, timeout=10)
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.json()["message"]
    assert InboundSms.objects.count() == 0


def test_without_a_configured_token_every_request_is_refused(live, holder, settings):
    settings.PERISCOPE_SMS_AUTH_TOKEN = ""
    response = post(live, twilio_form(), token="")
    assert response.status_code == 403
    assert "PERISCOPE_SMS_AUTH_TOKEN" in response.json()["message"]
    assert InboundSms.objects.count() == 0


def test_an_unknown_number_is_a_clear_404_and_stores_nothing(live, holder):
    response = post(live, twilio_form(to="+15559999999"))
    assert response.status_code == 404
    assert "+15559999999" in response.json()["message"]
    assert InboundSms.objects.count() == 0


def test_a_deleted_personas_number_receives_nothing(api, live, holder):
    api.delete(f"/personas/{holder['persona_id']}")
    assert post(live, twilio_form()).status_code == 404
    assert InboundSms.objects.count() == 0


def test_behind_a_proxy_the_public_url_is_what_was_signed(live, holder, settings):
    settings.PUBLIC_URL = "https://periscope.example.com"
    public = "https://periscope.example.com/api/personas/sms/inbound"
    assert post(live, twilio_form(), signed_url=public).status_code == 200
    # Signed for the address the server sees instead: refused.
    assert (
        post(
            live, twilio_form(sid="SM2"), signed_url=f"{live.api_url}/personas/sms/inbound"
        ).status_code
        == 403
    )
    assert InboundSms.objects.count() == 1


def test_missing_twilio_fields_are_a_422_once_the_signature_is_valid(live, holder):
    form = twilio_form()
    del form["MessageSid"], form["SmsMessageSid"]
    response = post(live, form)
    assert response.status_code == 422
    assert "MessageSid" in response.json()["message"]


def test_a_form_over_djangos_limits_is_refused_without_a_500(live, holder):
    too_many_fields = {f"f{n}": "x" for n in range(1500)}
    response = requests.post(
        f"{live.api_url}/personas/sms/inbound", data=too_many_fields, timeout=30
    )
    assert response.status_code == 400
    assert "too large" in response.json()["message"]
    assert InboundSms.objects.count() == 0
