"""A page that runs script for ever (`while (true) {}`) answers nothing over CDP. It must cost
its own session only: its commands get an answer in time, it can be stopped, its context is
closed, and the worker's timeouts go on for every other session."""

import asyncio

import pytest

from .helpers import open_contexts, start, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def loop_for_ever(live, session_id: str) -> bool:
    """Start the page's endless loop; True once the page no longer answers."""
    page = live.worker.pool.get(session_id).page

    async def stuck() -> bool:
        await page.evaluate("setTimeout(() => { while (true) {} }, 0)")
        try:
            await asyncio.wait_for(page.evaluate("1"), 1)
        except TimeoutError:
            return True
        return False

    return live.call(stuck)


def test_a_page_looping_in_script_costs_only_its_own_session(api, live, settings):
    settings.PERISCOPE_COMMAND_TIMEOUT = 4
    stuck = start(api)["session_id"]
    other = start(api, idle_timeout_minutes=1)["session_id"]
    api.post(f"/sessions/{stuck}/page/observe", json={})  # its screencast runs, as after any use
    assert loop_for_ever(live, stuck)

    for call in ("observe", "scrape"):
        answer = api.post(f"/sessions/{stuck}/page/{call}", json={})
        assert answer.status_code == 504, answer.text
        assert "did not answer" in answer.json()["message"]
    # The other session is served meanwhile, and the stuck one stops at once.
    assert api.post(f"/sessions/{other}/page/observe", json={}).status_code == 200
    assert api.delete(f"/sessions/{stuck}/stop").json()["status"] == "closed"
    assert wait_until(lambda: stuck not in live.worker.pool.session_ids(), timeout=5)
    assert wait_until(lambda: open_contexts(live) == 1, timeout=15)
    # The worker's reaper still runs: the other session's idle timeout ends it.
    live.clock.offset = 61
    assert wait_until(
        lambda: api.get(f"/sessions/{other}").json()["status"] == "timed_out", timeout=10
    )
