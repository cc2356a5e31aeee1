"""Sending real mail to the persona SMTP server."""

import smtplib
from email.message import EmailMessage

from personas_app.smtp import MailServer


def message(
    *,
    to: str,
    subject: str = "Hello",
    text: str | None = "Hi there",
    html: str | None = None,
    sender: str = "Acme <no-reply@acme.test>",
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = "<test@acme.test>"
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    return msg


def send(
    server: MailServer, msg: EmailMessage, *, envelope_from: str = "bounce@acme.test", to=None
) -> dict:
    """Sends over real SMTP; returns the recipients the server refused (smtplib's sendmail)."""
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        return client.send_message(msg, from_addr=envelope_from, to_addrs=to)
