"""The web app and (optionally) a browser worker in one asyncio loop, served by uvicorn.

Used by `manage.py serve` (make run) and by the tests' live server.
"""

import asyncio

import uvicorn
from django.conf import settings
from django.utils.module_loading import import_string

from .worker.runner import Worker


class EmbeddedServer:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 8000, worker: Worker | None = None):
        app = import_string(settings.ASGI_APPLICATION)
        # No access log: query strings can carry keys (the agent-logs socket's ?token=).
        config = uvicorn.Config(app, host=host, port=port, access_log=False, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.worker = worker
        self.started = asyncio.Event()
        self._stop_worker = asyncio.Event()

    async def run(self) -> None:
        worker_task = None
        if self.worker:
            worker_task = asyncio.ensure_future(self.worker.run(self._stop_worker))
            ready = asyncio.ensure_future(self.worker.ready.wait())
            await asyncio.wait({worker_task, ready}, return_when=asyncio.FIRST_COMPLETED)
            if worker_task.done():
                worker_task.result()  # the worker could not start: raise why
        serve_task = asyncio.ensure_future(self.server.serve())
        # uvicorn exposes only a flag for "listening", so poll it briefly.
        while not self.server.started and not serve_task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        self.started.set()
        try:
            await serve_task
        finally:
            self._stop_worker.set()
            if worker_task:
                await worker_task

    def request_stop(self) -> None:
        self.server.should_exit = True
