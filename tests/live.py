"""A real ASGI server (uvicorn) with an embedded browser worker, in a background thread."""

import asyncio
import concurrent.futures
import socket
import threading
import time

from channels.layers import channel_layers

from core import event_loop
from sessions_app.embedded import EmbeddedServer
from sessions_app.worker.runner import Worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AdjustableClock:
    """The worker's wall clock, which a test moves forward instead of sleeping through a timeout."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class LiveServer:
    def __init__(self, *, embedded_worker: bool = True, **worker_options):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api"
        self.clock = AdjustableClock()
        self.worker = Worker(clock=self.clock, **worker_options) if embedded_worker else None
        self._server: EmbeddedServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        self._loop = event_loop.new_event_loop()  # as `make run` has it
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _main(self) -> None:
        # A fresh channel layer for this server's loop, as a new process would have: a Redis
        # layer remembers the event loop of its receivers, and the last server's is gone.
        channel_layers.backends = {}
        self._server = EmbeddedServer(port=self.port, worker=self.worker)
        task = asyncio.ensure_future(self._server.run())
        started = asyncio.ensure_future(self._server.started.wait())
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        self._ready.set()
        await task

    def start(self) -> "LiveServer":
        self._thread.start()
        self._ready.wait(60)
        if self._error:
            raise self._error
        return self

    def call(self, coro_factory, timeout: float = 30):
        """Run a coroutine on the server's loop (e.g. to inspect the worker) and return its result."""
        return self.submit(coro_factory).result(timeout)

    def submit(self, coro_factory) -> concurrent.futures.Future:
        """Start a coroutine on the server's loop without waiting for it (await it from another
        loop with asyncio.wrap_future, which leaves that loop free meanwhile)."""
        assert self._loop
        return asyncio.run_coroutine_threadsafe(coro_factory(), self._loop)

    def stop(self) -> None:
        if self._server and self._loop and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._server.request_stop)
        self._thread.join(30)
