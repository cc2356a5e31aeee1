"""The web app and (optionally) a browser worker in one asyncio loop, served by uvicorn.

Used by `manage.py serve` (make run) and by the tests' live server.
"""

import asyncio
import contextlib

import uvicorn
from django.conf import settings
from django.utils.module_loading import import_string

from .worker.runner import Worker


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling. After a graceful stop it raises the signal it
    caught again, and a SIGTERM raised again kills the process on the spot: the worker sharing
    the loop would never close its sessions. Whoever runs the loop handles signals instead
    (`manage.py serve` calls request_stop)."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


class EmbeddedServer:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 8000, worker: Worker | None = None):
        app = import_string(settings.ASGI_APPLICATION)
        # No access log: query strings can carry keys (the agent-logs socket's ?token=).
        config = uvicorn.Config(
            app, host=host, port=port, access_log=False, lifespan="off", log_level="warning"
        )
        self.server = _Uvicorn(config)
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
        """Stop serving, then stop the worker (it closes its sessions and its browser). Asked
        again while stopping: stop without waiting for open connections."""
        if self.server.should_exit:
            self.server.force_exit = True
        self.server.should_exit = True
