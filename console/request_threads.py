"""The threads API requests borrow for their sync work (database queries).

Django's ASGI handler gives each request a new thread for its sync code, made on the request's
first sync call and joined by yet another thread when the request ends, and it runs the sync
receivers of request_started and request_finished there: two thread hops and the life of a thread
per request, even for a request that never touches the database. An API request instead borrows
one of these threads for its whole life and gives it back at the end. All of a request's sync
calls still run on one thread (so on one database connection, as Django intends), and a request
that makes no sync call wakes no thread at all.

Those two signals' receivers exist for the database connections of the request's thread: Django's
reset_queries and close_old_connections (plus close_caches and reset_urlconf, which have nothing
to do here: caches and the URL conf are per task in async code, and end with it). The borrowed
thread gets the same care, only when the request used it: the start checks run on the thread just
before the request's first sync call, and close_old_connections is queued on it (not waited for)
when the request gives it back. With CONN_MAX_AGE = 0 that closes the connection after every
request, as Django does; with a longer CONN_MAX_AGE, connections are kept and health-checked
exactly as Django keeps them for a thread.

A thread is lent to one request at a time. The idle list is only popped and appended to, each
atomic, so servers on several event loops in one process (the tests' live servers) can share it.
"""

from concurrent.futures import Future, ThreadPoolExecutor

from django.db import close_old_connections, reset_queries

MAX_IDLE = 16  # threads kept for the next requests; more concurrent sync work makes more


def _started(fn, /, *args, **kwargs):
    """What request_started's receivers do, then the request's first sync call."""
    reset_queries()
    close_old_connections()
    return fn(*args, **kwargs)


class RequestThread(ThreadPoolExecutor):
    """One thread (made on first use), lent to one request at a time."""

    def __init__(self):
        super().__init__(max_workers=1, thread_name_prefix="api-sync")
        self.used = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if not self.used:
            self.used = True
            return super().submit(_started, fn, *args, **kwargs)
        return super().submit(fn, *args, **kwargs)

    def finish(self) -> None:
        """The request is over: what request_finished's receiver does, queued behind its calls."""
        if self.used:
            self.used = False
            super().submit(close_old_connections)


_idle: list[RequestThread] = []


def lend() -> RequestThread:
    try:
        return _idle.pop()
    except IndexError:
        return RequestThread()


def give_back(thread: RequestThread) -> None:
    thread.finish()
    if len(_idle) < MAX_IDLE:
        _idle.append(thread)
    else:
        thread.shutdown(wait=False)  # after its queued close_old_connections
