"""The event loop the web server, the browser workers and the mail server run on.

uvloop, where it is installed (Linux and macOS): the server and the embedded worker share one
loop, so every socket wake-up, every message from Chromium and every channel-layer hand-over
goes through it. On this project's API path it took about 0.3 ms off each request and 15% off
the browser work itself (`bench/api_overhead.py`, login page observe).
"""

import asyncio
from collections.abc import Coroutine
from typing import Any

try:
    import uvloop
except ImportError:  # not built for Windows: the standard loop does the same job, slower
    uvloop = None


def new_event_loop() -> asyncio.AbstractEventLoop:
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()


def run[T](main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the project's loop."""
    return asyncio.run(main, loop_factory=new_event_loop)
