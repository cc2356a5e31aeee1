"""Persona mail and SMS are deleted after PERISCOPE_PERSONA_RETENTION_DAYS, by the mail server
(at start, then hourly) or by the purge command."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from personas_app import services
from personas_app.models import InboundEmail, InboundSms
from personas_app.smtp import MailServer

pytestmark = pytest.mark.django_db(transaction=True)

RAW = b"From: a@acme.test\r\nSubject: s\r\n\r\nbody\r\n"


@pytest.fixture
def aged(team):
    persona = services.persona_create(team=team)
    now = timezone.now()
    for days in (1, 6, 8, 40):
        [email] = services.email_receive(
            envelope_sender="a@acme.test", recipients=[persona.email], raw=RAW
        )
        InboundEmail.objects.filter(pk=email.pk).update(created_at=now - timedelta(days=days))
        InboundSms.objects.create(
            persona=persona,
            to_number="+15550000001",
            body="hi",
            provider_sid=f"SM{days}",
            created_at=now - timedelta(days=days),
        )
    return persona


def _ages(model):
    now = timezone.now()
    return sorted(round((now - m.created_at) / timedelta(days=1)) for m in model.objects.all())


def test_the_purge_keeps_only_recent_messages(aged, settings):
    settings.PERISCOPE_PERSONA_RETENTION_DAYS = 7
    assert services.messages_purge_expired() == (2, 2)
    assert _ages(InboundEmail) == _ages(InboundSms) == [1, 6]


def test_zero_keeps_everything(aged, settings):
    settings.PERISCOPE_PERSONA_RETENTION_DAYS = 0
    assert services.messages_purge_expired() == (0, 0)
    assert InboundEmail.objects.count() == InboundSms.objects.count() == 4


def test_the_command(aged, settings):
    settings.PERISCOPE_PERSONA_RETENTION_DAYS = 30
    out = StringIO()
    call_command("purge_persona_messages", stdout=out)
    assert "Deleted 1 email(s) and 1 SMS older than 30 days" in out.getvalue()
    assert _ages(InboundEmail) == [1, 6, 8]


def test_the_mail_server_purges_when_it_starts(aged, settings, live):
    settings.PERISCOPE_PERSONA_RETENTION_DAYS = 7
    server = live.call(lambda: MailServer(host="127.0.0.1", port=0).start())
    try:
        deadline = time.monotonic() + 10
        while InboundEmail.objects.count() > 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        live.call(server.stop)
    assert _ages(InboundEmail) == _ages(InboundSms) == [1, 6]
