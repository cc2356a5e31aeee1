"""The real SMTP server, driven by smtplib: what it accepts, what it refuses, and what it stores."""

import smtplib

import pytest

from personas_app.models import InboundEmail
from personas_app.smtp import MailServer

from .helpers import message, send

pytestmark = pytest.mark.django_db(transaction=True)


def test_mail_for_a_persona_is_stored_before_the_250_and_shows_in_the_api(
    api, mail_server, persona
):
    refused = send(
        mail_server,
        message(to=persona["email"], subject="Welcome to Acme", text="Your code is 482913"),
    )
    assert refused == {}
    # Stored before the server said 250: it is in the database the moment sendmail returns.
    assert InboundEmail.objects.filter(persona_id=persona["persona_id"]).count() == 1

    emails = api.get(f"/personas/{persona['persona_id']}/emails").json()
    assert len(emails) == 1
    email = emails[0]
    assert email["subject"] == "Welcome to Acme"
    assert email["sender_email"] == "no-reply@acme.test"
    assert email["sender_name"] == "Acme"
    assert email["text_content"].strip() == "Your code is 482913"
    assert email["html_content"] is None
    assert email["codes"] == ["482913"]
    assert email["recipient"] == persona["email"]


def test_unknown_mailbox_on_our_domain_is_refused_at_rcpt_with_550(mail_server, persona):
    unknown = "nobody.here.zzzzzz@" + persona["email"].split("@")[1]
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(mail_server, message(to=unknown))
    code, text = refused.value.recipients[unknown]
    assert code == 550
    assert b"No such mailbox" in text
    assert InboundEmail.objects.count() == 0


def test_external_domain_is_refused_no_open_relay(mail_server, persona):
    with smtplib.SMTP(mail_server.host, mail_server.port, timeout=10) as client:
        client.ehlo()
        assert client.mail("spammer@evil.test")[0] == 250
        code, text = client.rcpt("victim@external.example")
        assert code == 550
        assert b"Relaying denied" in text
        # The persona's mailbox name on another domain is not ours either.
        code, _ = client.rcpt(persona["email"].split("@")[0] + "@external.example")
        assert code == 550
    assert InboundEmail.objects.count() == 0


def test_a_message_to_a_persona_and_a_stranger_reaches_only_the_persona(mail_server, persona):
    stranger = "someone@external.example"
    refused = send(mail_server, message(to=persona["email"]), to=[persona["email"], stranger])
    assert refused[stranger][0] == 550
    assert InboundEmail.objects.filter(persona_id=persona["persona_id"]).count() == 1


def test_plus_addressing_delivers_to_the_persona(api, mail_server, persona):
    local, domain = persona["email"].split("@")
    tagged = f"{local.upper()}+github@{domain.upper()}"
    assert send(mail_server, message(to=tagged), to=[tagged]) == {}
    [email] = api.get(f"/personas/{persona['persona_id']}/emails").json()
    assert email["recipient"] == tagged


def test_a_deleted_persona_receives_no_more_mail(api, mail_server, persona):
    assert api.delete(f"/personas/{persona['persona_id']}").json()["status"] == "success"
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(mail_server, message(to=persona["email"]))
    assert InboundEmail.objects.count() == 0


def test_too_large_is_refused_whether_announced_or_not(settings, mail_server, persona):
    settings.PERISCOPE_MAIL_MAX_BYTES = 4000
    big = message(to=persona["email"], text=("x" * 70 + "\n") * 100)
    # smtplib announces the size (SIZE=...) and the server refuses at MAIL FROM.
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(mail_server, big)
    assert refused.value.smtp_code == 552
    # A client that does not announce it is refused once the data passes the limit.
    with smtplib.SMTP(mail_server.host, mail_server.port, timeout=10) as client:
        client.ehlo()
        assert client.mail("bounce@acme.test")[0] == 250
        assert client.rcpt(persona["email"])[0] == 250
        code, text = client.data(big.as_string())
        assert (code, text) == (552, b"Error: Too much mail data")
    assert InboundEmail.objects.count() == 0
    # Under the limit it goes through.
    assert send(mail_server, message(to=persona["email"], text="small")) == {}


def test_a_sender_over_its_rate_is_told_to_come_back_later(settings, mail_server, persona):
    settings.PERISCOPE_MAIL_RATE_PER_SENDER = 3
    for _ in range(3):
        assert send(mail_server, message(to=persona["email"]), envelope_from="busy@acme.test") == {}
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(mail_server, message(to=persona["email"]), envelope_from="busy@acme.test")
    assert refused.value.smtp_code == 451  # temporary: a real sender retries later
    # Another sender is not held back.
    assert send(mail_server, message(to=persona["email"]), envelope_from="calm@other.test") == {}
    assert InboundEmail.objects.filter(envelope_sender="busy@acme.test").count() == 3


def test_html_is_sanitised_attachments_listed_and_links_extracted(api, mail_server, persona):
    msg = message(
        to=persona["email"],
        subject="Confirm your email",
        text="Confirm here: https://acme.test/verify?token=abc123\nOr enter the code 731 204.",
        html=(
            "<html><head><title>t</title><style>p{color:red}</style></head><body>"
            "<p onclick='steal()'>Confirm your address.</p><script>alert(1)</script>"
            "<img src=x onerror=alert(1)><img src='https://tracker.test/open.gif'>"
            "<a href='https://acme.test/verify?token=abc123'>Verify my email</a> "
            "<a href='javascript:alert(1)'>js</a> <a href='https://acme.test/unsubscribe'>Unsubscribe</a>"
            "</body></html>"
        ),
    )
    msg.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    msg.add_attachment(
        b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename="setup.exe"
    )
    send(mail_server, msg)
    [email] = api.get(f"/personas/{persona['persona_id']}/emails").json()
    html = email["html_content"]
    for dangerous in (
        "<script",
        "onclick",
        "onerror",
        "javascript:",
        "tracker.test",
        "<style",
        "alert",
    ):
        assert dangerous not in html
    assert 'href="https://acme.test/verify?token=abc123"' in html
    assert email["attachments"] == [
        {"name": "invoice.pdf", "content_type": "application/pdf", "size": 13},
        {"name": "setup.exe", "content_type": "application/octet-stream", "size": 4},
    ]
    assert email["verification_links"] == ["https://acme.test/verify?token=abc123"]
    assert email["links"][0] == {
        "url": "https://acme.test/verify?token=abc123",
        "text": "Verify my email",
        "verification": True,
    }
    assert {
        "url": "https://acme.test/unsubscribe",
        "text": "Unsubscribe",
        "verification": False,
    } in email["links"]
    assert email["codes"] == ["731204"]


def test_an_html_only_message_gets_a_text_version_for_agents(api, mail_server, persona):
    send(
        mail_server,
        message(
            to=persona["email"],
            text=None,
            html="<table><tr><td>Your login code</td></tr><tr><td><b>556677</b></td></tr></table>",
        ),
    )
    [email] = api.get(f"/personas/{persona['persona_id']}/emails").json()
    assert "556677" in email["text_content"]
    assert "<" not in email["text_content"]
    assert email["codes"] == ["556677"]


def test_a_malformed_message_is_still_kept(api, mail_server, persona):
    raw = (
        b"From: =?bogus-charset?Q?Weird?= <weird@acme.test>\r\nSubject: broken\r\n"
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\nCode: 123456 \xff\xfe\x00 end\r\n"
    )
    with smtplib.SMTP(mail_server.host, mail_server.port, timeout=10) as client:
        assert client.sendmail("weird@acme.test", [persona["email"]], raw) == {}
    [email] = api.get(f"/personas/{persona['persona_id']}/emails").json()
    assert email["subject"] == "broken"
    assert "Code: 123456" in email["text_content"]
    assert "\x00" not in email["text_content"]
    assert email["codes"] == ["123456"]


def test_mail_survives_a_restart_of_the_smtp_server(api, live, persona):
    first = live.call(lambda: MailServer(host="127.0.0.1", port=0).start())
    for n in range(3):
        send(first, message(to=persona["email"], subject=f"before restart {n}"))
    live.call(first.stop)
    with pytest.raises(OSError):
        smtplib.SMTP(first.host, first.port, timeout=5)

    second = live.call(lambda: MailServer(host="127.0.0.1", port=0).start())
    try:
        send(second, message(to=persona["email"], subject="after restart"))
    finally:
        live.call(second.stop)
    subjects = {e["subject"] for e in api.get(f"/personas/{persona['persona_id']}/emails").json()}
    assert subjects == {"before restart 0", "before restart 1", "before restart 2", "after restart"}


def test_addresses_with_control_characters_are_refused_and_the_server_carries_on(
    mail_server, persona
):
    with smtplib.SMTP(mail_server.host, mail_server.port, timeout=10) as client:
        client.ehlo()
        assert client.docmd("MAIL FROM:<bad\x01sender@acme.test>")[0] == 501
        assert client.mail("good@acme.test")[0] == 250
        assert client.docmd(f"RCPT TO:<{persona['email'][:3]}\x00{persona['email'][3:]}>")[0] == 501
        assert client.rcpt(persona["email"])[0] == 250
    assert send(mail_server, message(to=persona["email"])) == {}
