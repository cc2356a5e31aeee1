"""The real notte-sdk 1.8.28 client against the personas API, with mail sent over SMTP."""

from datetime import timedelta

import pytest
from notte_sdk import NotteClient
from notte_sdk.errors import NotteAPIError

from .helpers import message, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live, api_key):
    return NotteClient(api_key=api_key, server_url=live.api_url)


def test_persona_reads_its_mail(client, mail_server):
    persona = client.Persona()  # creates it
    info = persona.info
    assert info.status == "active"
    assert info.email.endswith("@periscope.localhost")
    assert info.vault_id is None and info.phone_number is None
    assert persona.has_vault is False

    send(
        mail_server,
        message(
            to=info.email,
            subject="Your Acme code",
            text="Code: 904571",
            sender="Acme Support <support@acme.test>",
        ),
    )
    [email] = persona.emails()
    assert email.subject == "Your Acme code"
    assert email.sender_email == "support@acme.test"
    assert email.sender_name == "Acme Support"
    assert "904571" in email.text_content
    # Listed once, an email counts as read.
    assert persona.emails(only_unread=True) == []
    assert len(persona.emails(timedelta=timedelta(minutes=5), limit=5)) == 1

    again = client.Persona(info.persona_id)  # fetches it
    assert again.info.email == info.email
    assert [p.persona_id for p in client.personas.list()] == [info.persona_id]
    assert client.personas.list_emails(info.persona_id, limit=1)[0].email_id == email.email_id


def test_sms_and_numbers(client, settings):
    settings.PERISCOPE_SMS_NUMBERS = ["+15550000001"]
    persona = client.Persona(create_phone_number=True)
    assert persona.info.phone_number == "+15550000001"
    assert persona.sms() == []
    assert persona.delete_number().status == "success"
    created = persona.create_number()
    assert created.phone_number == "+15550000001"
    assert client.personas.list_sms(persona.persona_id, only_unread=True) == []


def test_delete_and_stop(client):
    persona = client.Persona()
    pid = persona.persona_id
    assert client.personas.delete(pid).status == "success"
    assert client.personas.get(pid).status == "closed"
    assert client.personas.list() == []
    assert len(client.personas.list(only_active=False)) == 1
    persona.stop()  # deleting twice is not an error for the client


def test_errors_reach_the_client_as_api_errors(client, settings):
    with pytest.raises(NotteAPIError) as unknown:
        client.personas.get("00000000-0000-4000-8000-000000000000")
    assert unknown.value.status_code == 404
    settings.PERISCOPE_SMS_NUMBERS = []
    with pytest.raises(NotteAPIError) as no_pool:
        client.Persona(create_phone_number=True)
    assert "PERISCOPE_SMS_NUMBERS" in str(no_pool.value)


def test_a_persona_with_a_vault_keeps_its_sign_up_credentials_there(client, vault_keyring):
    persona = client.Persona(create_vault=True)
    assert persona.has_vault is True
    persona.add_credentials(url="https://shop.example.com/signup")  # the SDK makes up a password
    [credential] = persona.vault.list_credentials()
    assert credential.url == "example.com"
    assert credential.email == persona.info.email
