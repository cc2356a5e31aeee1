"""The persona mail server on its own, for a deployment where the team's MX or a relay forwards
mail for PERISCOPE_MAIL_DOMAIN to it (set PERISCOPE_SMTP_EMBEDDED=false on the web processes)."""

import asyncio
import signal

from django.core.management.base import BaseCommand, CommandError

from core import event_loop
from personas_app.smtp import MailServer


class Command(BaseCommand):
    help = "Receive persona mail over SMTP (host and port default to PERISCOPE_SMTP_HOST/PORT)."

    def add_arguments(self, parser):
        parser.add_argument("--host", help="address to listen on, e.g. 0.0.0.0 behind a relay")
        parser.add_argument("--port", type=int)

    def handle(self, *args, host=None, port=None, **options):
        try:
            event_loop.run(self._run(host, port))
        except OSError as exc:
            raise CommandError(exc.strerror or str(exc)) from None

    async def _run(self, host, port):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        server = await MailServer(host=host, port=port).start()
        self.stdout.write(server.banner + " (Ctrl-C to stop)")
        try:
            await stop.wait()
        finally:
            await server.stop()
