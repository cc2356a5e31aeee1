"""`make run`: the console, the API and a browser worker in one process.

uvicorn and the worker share one asyncio loop, so the in-memory channel layer connects them
with no Redis. Ctrl-C stops the server, then the worker closes every context and its Chromium.
"""

import asyncio
import contextlib
import logging

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from sessions_app.worker.runner import Worker

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Serve the console and API with an embedded browser worker (single process)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="rely on separate run_browser_worker processes")

    def handle(self, *args, host, port, no_worker, **options):
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(host=host, port=port, embedded_worker=not no_worker))


async def serve(*, host: str, port: int, embedded_worker: bool = True) -> None:
    app = import_string(settings.ASGI_APPLICATION)
    # Access logs would carry query strings, and the agent-logs socket puts its key there.
    config = uvicorn.Config(app, host=host, port=port, access_log=False, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    stop = asyncio.Event()
    worker_task = None
    if embedded_worker:
        worker = Worker()
        worker_task = asyncio.ensure_future(worker.run(stop))
        await asyncio.wait({worker_task, asyncio.ensure_future(worker.ready.wait())},
                           return_when=asyncio.FIRST_COMPLETED)
        if worker_task.done():
            worker_task.result()  # the worker failed to start: say why
    print(f"Periscope is serving on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        await server.serve()
    finally:
        stop.set()
        if worker_task:
            await worker_task
