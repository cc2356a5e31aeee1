"""Screenshots of the persona pages for a design review, not a test (the suite does not collect it):

.venv/bin/pytest tests/e2e/screenshots_personas.py   # PNGs go to $PERISCOPE_SCREENSHOTS or /tmp/shots
"""

import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from personas_app import services
from personas_app.models import InboundSms
from personas_app.smtp import MailServer
from tests.live import LiveServer

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("PERISCOPE_SCREENSHOTS", "/tmp/shots")
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
HTML = """<div style="font-family:Arial"><h2>Welcome to Acme, Maya!</h2>
<p>Thanks for signing up. Enter this code to confirm your email address:</p>
<p style="font-size:28px"><b>731204</b></p>
<p>Or <a href="https://acme.test/verify?token=f00dcafe">verify your email</a> with one click.</p>
<script>alert(1)</script><img src=x onerror=alert(1)>
<p><small>Acme Inc. · <a href="https://acme.test/unsubscribe">Unsubscribe</a></small></p></div>"""


@pytest.fixture
def live(transactional_db):
    server = LiveServer(embedded_worker=False).start()
    yield server
    server.stop()


def _send(server, to, subject, text, html=None, sender="Acme <no-reply@acme.test>"):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.send_message(msg)


def test_screenshots(browser, live, owner, team, settings):
    settings.PERISCOPE_SMS_NUMBERS = ["+15550000001", "+15550000002"]
    mail = live.call(lambda: MailServer(host="127.0.0.1", port=0).start())
    maya = services.persona_create(team=team, create_phone_number=True, user=owner)
    services.persona_create(team=team, user=owner)
    _send(
        mail,
        maya.email,
        "Confirm your Acme account",
        "Your verification code is 731204.\nOr open https://acme.test/verify?token=f00dcafe",
        HTML,
    )
    _send(
        mail,
        maya.email,
        "[GitHub] Please verify your device",
        "Verification code: 904571\n\nThanks, GitHub",
        sender="GitHub <noreply@github.com>",
    )
    _send(
        mail,
        maya.email,
        "Your weekly digest",
        "Nothing to verify here. https://news.test/digest",
        sender="News <digest@news.test>",
    )
    InboundSms.objects.create(
        persona=maya,
        sender="+15557654321",
        to_number=maya.phone_number,
        body="G-482913 is your Google verification code.",
        provider_sid="SM1",
        codes=["482913"],
    )
    first = maya.emails.order_by("created_at").first()
    live.call(mail.stop)

    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for size_name, size in SIZES.items():
            context = browser.new_context(viewport=size, color_scheme=scheme)
            page = context.new_page()
            prefix = f"{size_name}-{scheme}"
            page.goto(f"{live.url}/login/")
            page.get_by_label("Username").fill("alice")
            page.get_by_label("Password").fill("alice-pass-123")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/sessions/")
            page.goto(f"{live.url}/personas/")
            page.screenshot(path=out / f"{prefix}-personas.png", full_page=True)
            page.goto(f"{live.url}/personas/{maya.pk}/")
            page.screenshot(path=out / f"{prefix}-persona.png", full_page=True)
            page.goto(f"{live.url}/personas/{maya.pk}/emails/{first.pk}/")
            page.wait_for_timeout(300)
            page.screenshot(path=out / f"{prefix}-email.png", full_page=True)
            page.goto(f"{live.url}/personas/{maya.pk}/emails/{first.pk}/?view=text")
            page.screenshot(path=out / f"{prefix}-email-text.png", full_page=True)
            context.close()
