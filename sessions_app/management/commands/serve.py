"""`make run`: the console, the API, a browser worker and the persona mail server in one process.

uvicorn and the worker share one asyncio loop, so the in-memory channel layer connects them
with no Redis. Ctrl-C stops the server, then the worker closes every context and its Chromium.
"""

import asyncio
import contextlib
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from core import event_loop
from personas_app.smtp import MailServer
from sessions_app.embedded import EmbeddedServer
from sessions_app.worker.runner import Worker


class Command(BaseCommand):
    help = "Serve the console and API with an embedded browser worker (single process)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker", action="store_true", help="rely on separate run_browser_worker processes"
        )

    def handle(self, *args, host, port, no_worker, **options):
        with contextlib.suppress(KeyboardInterrupt):
            event_loop.run(self._serve(host, port, no_worker))

    async def _serve(self, host, port, no_worker):
        mail = MailServer() if settings.PERISCOPE_SMTP_EMBEDDED else None
        try:
            if mail:
                await mail.start()
                self.stdout.write(mail.banner)
        except OSError as exc:  # the console still serves; persona mail waits for a free port
            self.stderr.write(f"Persona mail is off: {exc.strerror}")
            mail = None
        try:
            await self._serve_web(host, port, no_worker)
        finally:
            if mail:
                await mail.stop()

    async def _serve_web(self, host, port, no_worker):
        server = EmbeddedServer(host=host, port=port, worker=None if no_worker else Worker())
        # Ctrl-C, or SIGTERM from systemd, Docker or Kubernetes: a graceful stop either way.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.request_stop)
        task = asyncio.ensure_future(server.run())
        started = asyncio.ensure_future(server.started.wait())
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        if server.started.is_set():
            self.stdout.write(f"Periscope is serving on http://{host}:{port}/ (Ctrl-C to stop)")
        await task
