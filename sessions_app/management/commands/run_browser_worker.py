import asyncio
import signal

from django.core.management.base import BaseCommand

from core import event_loop
from sessions_app.worker.runner import Worker


class Command(BaseCommand):
    help = "Run a browser worker: one Chromium serving sessions over the channel layer (needs REDIS_URL)."

    def add_arguments(self, parser):
        parser.add_argument("--capacity", type=int, help="most sessions this worker holds at once")

    def handle(self, *args, capacity=None, **options):
        event_loop.run(self._run(capacity))

    async def _run(self, capacity):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Worker(capacity=capacity).run(stop)
