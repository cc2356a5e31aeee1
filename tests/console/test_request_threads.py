"""API requests run their sync work on a borrowed thread and send no request signals: the
thread's database connections get the care those signals' receivers would give them, and a
page command with warm caches wakes no thread at all."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.db import connection

from console import request_threads
from teams_app import key_cache
from teams_app.models import Team
from tests.sessions_app.helpers import start


def receivers(signal) -> set[str]:
    sync, not_sync = signal._live_receivers(None)
    return {f"{r.__module__}.{r.__qualname__}" for r in [*sync, *not_sync]}


def test_the_request_signals_have_only_the_receivers_the_api_handler_stands_in_for():
    # The API handler does not send these two signals (console/request_threads.py). A new receiver
    # must be looked at: call it from request_threads, or let API requests send the signal again.
    assert receivers(signals.request_started) == {
        "django.db.reset_queries",
        "django.db.close_old_connections",
    }
    assert receivers(signals.request_finished) == {
        "django.db.close_old_connections",
        "django.core.cache.close_caches",
        "django.core.handlers.base.reset_urlconf",
    }


def on_thread(thread: request_threads.RequestThread, fn):
    """Run fn on the thread directly, outside any request."""
    return ThreadPoolExecutor.submit(thread, fn).result(10)


@pytest.mark.django_db(transaction=True)
def test_a_request_s_sync_calls_share_one_thread_whose_connection_closes_when_given_back():
    Team.objects.create(name="Acme")

    def query():
        names = list(Team.objects.values_list("name", flat=True))
        return names, threading.get_ident(), connection.connection is not None

    async def request(thread):
        async with ThreadSensitiveContext(executor=thread):
            return [await sync_to_async(query)() for _ in range(2)]

    thread = request_threads.lend()
    (first, second) = asyncio.run(request(thread))
    request_threads.give_back(thread)
    assert first[0] == second[0] == ["Acme"]
    assert first[1] == second[1] != threading.get_ident()
    assert first[2] and second[2]
    # CONN_MAX_AGE is 0: the connection is closed once the request is over, as Django closes it.
    assert on_thread(thread, lambda: connection.connection is None)
    assert request_threads.lend() is thread  # the next request gets the same thread back
    request_threads.give_back(thread)


def test_a_request_that_makes_no_sync_call_wakes_no_thread():
    async def request(thread):
        async with ThreadSensitiveContext(executor=thread):
            await asyncio.sleep(0)

    thread = request_threads.RequestThread()
    asyncio.run(request(thread))
    request_threads.give_back(thread)
    assert not thread._threads  # ThreadPoolExecutor starts its thread on the first submit


@pytest.mark.django_db(transaction=True)
def test_a_page_command_with_warm_caches_makes_no_thread_hop(api, monkeypatch, settings):
    settings.PERISCOPE_API_KEY_CACHE_SECONDS = 600  # a slow machine must not let the key expire
    session = start(api)["session_id"]
    assert (
        api.post(f"/sessions/{session}/page/observe", json={}).status_code == 200
    )  # learns the route
    hops = []
    submit = request_threads.RequestThread.submit

    def counted(self, fn, /, *args, **kwargs):
        hops.append(getattr(fn, "__qualname__", fn))
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(request_threads.RequestThread, "submit", counted)
    assert api.post(f"/sessions/{session}/page/observe", json={}).status_code == 200
    assert hops == []
    key_cache.clear()  # a key this process has not seen recently: one hop, for the key's row
    assert api.post(f"/sessions/{session}/page/observe", json={}).status_code == 200
    assert len(hops) == 1
