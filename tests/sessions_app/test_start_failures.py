"""A start that fails at any step gives back everything it took: the worker's slot, the browser
context, the session's folder. Each step is made to fail for real (it raises where the real
call would), then the next start on the same one-slot worker must succeed."""

import pytest
from playwright.async_api import BrowserContext

from browser.pool import BrowserPool
from sessions_app import services
from sessions_app.models import BrowserSession
from sessions_app.worker.live import LiveHub
from tests.conftest import Api
from tests.live import LiveServer

from .helpers import open_contexts, start, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def fail(*args, **kwargs):
    raise RuntimeError("injected failure")


async def fail_async(*args, **kwargs):
    raise RuntimeError("injected failure")


# (what fails, where, the start body that reaches it)
STEPS = {
    "new context": (BrowserPool, "_new_context", fail_async, {"user_agent": "Cold/1.0"}),
    "first page": (BrowserContext, "new_page", fail_async, {"user_agent": "Cold/1.0"}),
    "warm context set-up": (BrowserPool, "_apply_spec", fail_async, {}),
    "database write": (services, "session_mark_active", fail, {}),
    "live view attach": (LiveHub, "attach", fail, {}),
}


@pytest.fixture
def one_slot(transactional_db, settings):
    server = LiveServer(capacity=1, warm_contexts=1).start()
    yield server
    server.stop()


def session_folders(live) -> list[str]:
    folder = live.worker.pool._home / "sessions"
    return [p.name for p in folder.iterdir()] if folder.exists() else []


@pytest.mark.parametrize("step", list(STEPS))
def test_a_start_failing_at_any_step_leaks_nothing(step, one_slot, api_key, monkeypatch):
    api = Api(one_slot.api_url, api_key)
    owner, name, replacement, body = STEPS[step]
    wait_until(lambda: one_slot.worker.pool.stats().warm == 1, timeout=10)
    with monkeypatch.context() as patch:
        patch.setattr(owner, name, replacement)
        failed = api.post("/sessions/start", json=body)
    assert failed.status_code == 500, failed.text
    assert "injected failure" in failed.json()["message"]
    row = BrowserSession.objects.get()
    assert row.status == "error"

    assert one_slot.worker.pool.session_ids() == []
    assert open_contexts(one_slot) == 0
    assert session_folders(one_slot) == []
    # The only slot is free again: the next start gets it.
    assert start(api, **body)["status"] == "active"
