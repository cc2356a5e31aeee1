"""Every worker full: a start waits a bounded time for room, then is refused in a way clients
retry (503 with Retry-After), leaving no live row and no context behind; a refused start never
takes a slot later."""

import pytest
from channels.layers import get_channel_layer

from sessions_app.models import LIVE_STATUSES, BrowserSession
from sessions_app.worker.protocol import START_QUEUE
from tests.conftest import Api
from tests.live import LiveServer

from .helpers import open_contexts, start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def one_slot(transactional_db, site, settings):
    port = site.url.rsplit(":", 1)[1]
    settings.PERISCOPE_EGRESS_ALLOW = f"127.0.0.1:{port}"
    settings.PERISCOPE_START_TIMEOUT = 2
    server = LiveServer(capacity=1).start()
    yield server
    server.stop()


def test_a_start_with_every_worker_full_is_refused_and_never_takes_a_slot_later(one_slot, api_key):
    api = Api(one_slot.api_url, api_key)
    first = start(api)["session_id"]

    refused = api.post("/sessions/start", json={})
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert "All 1 running browser worker(s) are at capacity" in refused.json()["message"]
    assert open_contexts(one_slot) == 1
    [errored] = BrowserSession.objects.exclude(pk=first)
    assert errored.status == "error" and "at capacity" in errored.error

    assert api.delete(f"/sessions/{first}/stop").json()["status"] == "closed"
    # The worker drops the refused start it finds queued (its caller gave up) and takes this one.
    third = start(api)["session_id"]
    live = BrowserSession.objects.filter(status__in=LIVE_STATUSES).values_list("pk", flat=True)
    assert [str(pk) for pk in live] == [third]
    assert BrowserSession.objects.get(pk=errored.pk).status == "error"


def test_a_full_start_queue_is_refused_at_once_and_leaves_no_live_row(transactional_db, api_key):
    server = LiveServer(embedded_worker=False).start()  # nobody reads the queue

    async def fill_queue():
        layer = get_channel_layer()
        for _ in range(layer.capacity):
            await layer.send(START_QUEUE, {"type": "noop"})

    async def flush():
        await get_channel_layer().flush()

    try:
        server.call(fill_queue)
        refused = Api(server.api_url, api_key).post("/sessions/start", json={})
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
        assert "more requests waiting than they can take" in refused.json()["message"]
        assert not BrowserSession.objects.filter(status__in=LIVE_STATUSES).exists()
    finally:
        server.call(flush)
        server.stop()
