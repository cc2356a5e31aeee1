"""The HTTP floor: what one HTTP round trip costs on this machine before any of our code runs.

A bare ASGI app on the server stack ours runs on (uvicorn with httptools, on the project's event
loop), in a thread of the benchmark's process as our live server is. It reads the request's body
and answers as many bytes as the query string's `bytes` asks for, so each call can mirror the
size of one of our answers. Timed with the same client, its p50 is the share of an API call's
overhead that any Python HTTP server would pay here: the two wake-ups (the server's when the
request arrives, the client's when the answer does) and moving the bytes.
"""

import asyncio
import threading
from urllib.parse import parse_qs

import uvicorn

from core import event_loop

MAX_BYTES = 50 * 1024 * 1024


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    asked = parse_qs(scope["query_string"].decode()).get("bytes", ["0"])[0]
    body = b"x" * min(int(asked), MAX_BYTES)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HttpFloor:
    def __init__(self):
        from tests.live import free_port  # once Django is set up, as the benchmarks do

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            http="httptools",
            access_log=False,
            lifespan="off",
            log_level="warning",
        )
        self._server = uvicorn.Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="http-floor", daemon=True)

    def _run(self) -> None:
        self._loop = event_loop.new_event_loop()
        try:
            self._loop.run_until_complete(self._server.serve())
        finally:
            self._loop.close()

    def start(self) -> "HttpFloor":
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            self._thread.join(0.01)
        raise RuntimeError("the bare HTTP server did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
