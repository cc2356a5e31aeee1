"""The inbound SMTP server (aiosmtpd) for persona mailboxes.

It is not a relay: a recipient must be an active persona's address on PERISCOPE_MAIL_DOMAIN,
anything else is refused at RCPT with 550. Messages are limited in size (at MAIL by the SIZE
the client declares, and while DATA is read) and in rate per envelope sender. A message is
stored, in one transaction, before the server answers 250: once accepted, a restart cannot
lose it. If storing fails the answer is a temporary 451, so the sender tries again later.

It runs on the caller's asyncio loop: inside `manage.py serve` beside uvicorn, or alone in
`manage.py run_mail_server`.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from . import selectors, services

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 50
STORE_TIMEOUT = 60  # seconds; the sender retries after a 451
IDLE_TIMEOUT = 60  # seconds a client may stay silent
PURGE_EVERY = 3600  # seconds between purges of expired mail and SMS


async def _orm(function, /, **kwargs):
    """The one way the SMTP server reaches the database (Django's ORM is synchronous)."""

    def call():
        close_old_connections()
        try:
            return function(**kwargs)
        finally:
            close_old_connections()

    return await sync_to_async(call, thread_sensitive=False)()


class PersonaMailHandler:
    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options
    ):
        if selectors.has_control_characters(address):
            return "501 5.1.7 Bad sender address syntax"
        since = timezone.now() - timedelta(minutes=1)
        recent = await _orm(selectors.email_count_from_sender, sender=address, since=since)
        if recent >= settings.PERISCOPE_MAIL_RATE_PER_SENDER:
            return "451 4.7.1 Too many messages from this sender; try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options
    ):
        if selectors.has_control_characters(address):
            return "501 5.1.3 Bad recipient address syntax"
        if not selectors.is_mail_domain(address):
            return f"550 5.7.1 Relaying denied: this server only takes mail for @{settings.PERISCOPE_MAIL_DOMAIN}"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return f"452 4.5.3 Too many recipients (at most {MAX_RECIPIENTS} per message)"
        if await _orm(selectors.persona_for_address, address=address) is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope):
        try:
            stored = await asyncio.wait_for(
                _orm(
                    services.email_receive,
                    envelope_sender=envelope.mail_from or "",
                    recipients=list(envelope.rcpt_tos),
                    raw=envelope.original_content or b"",
                ),
                STORE_TIMEOUT,
            )
        except Exception:
            log.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 The message could not be stored; try again later"
        if not stored:  # every recipient was deleted between RCPT and DATA
            return "550 5.1.1 No such mailbox here"
        return "250 2.0.0 Message accepted"


class MailServer:
    """Listens on host:port (default: the PERISCOPE_SMTP_* settings) on the running loop, and
    purges expired persona mail and SMS every hour."""

    def __init__(self, *, host: str | None = None, port: int | None = None):
        self.host = host or settings.PERISCOPE_SMTP_HOST
        self.port = settings.PERISCOPE_SMTP_PORT if port is None else port
        self._server: asyncio.Server | None = None
        self._purge: asyncio.Task | None = None

    async def start(self) -> "MailServer":
        loop = asyncio.get_running_loop()
        handler = PersonaMailHandler()

        def protocol():
            return SMTP(
                handler,
                data_size_limit=settings.PERISCOPE_MAIL_MAX_BYTES,
                enable_SMTPUTF8=True,
                hostname=settings.PERISCOPE_MAIL_DOMAIN,
                ident="Periscope",
                timeout=IDLE_TIMEOUT,
                loop=loop,
            )

        try:
            self._server = await loop.create_server(protocol, host=self.host, port=self.port)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"cannot listen for mail on {self.host}:{self.port} ({exc.strerror}): set "
                "PERISCOPE_SMTP_HOST/PERISCOPE_SMTP_PORT, or PERISCOPE_SMTP_EMBEDDED=false",
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]  # the real one when port 0 was asked
        self._purge = asyncio.ensure_future(self._purge_regularly())
        return self

    @property
    def banner(self) -> str:
        return (
            f"Persona mail: <address>@{settings.PERISCOPE_MAIL_DOMAIN} is received on "
            f"smtp://{self.host}:{self.port}"
        )

    async def stop(self) -> None:
        if self._purge:
            self._purge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purge
        if self._server:
            self._server.close()
            if hasattr(self._server, "close_clients"):  # Python 3.13
                self._server.close_clients()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _purge_regularly(self) -> None:
        while True:
            try:
                emails, sms = await _orm(services.messages_purge_expired)
                if emails or sms:
                    log.info("purged %d expired persona email(s) and %d SMS", emails, sms)
            except Exception:
                log.exception("purging expired persona mail failed; trying again later")
            await asyncio.sleep(PURGE_EVERY)
