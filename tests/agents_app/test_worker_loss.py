"""A worker killed in the middle of a run: its agents end, closed, saying why."""

import signal

import pytest

from sessions_app.models import BrowserSession
from tests.conftest import Api
from tests.live import LiveServer
from tests.sessions_app.test_workers import scale_out, spawn_worker

from .brain import done
from .helpers import finished, start, start_agent, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@scale_out
def test_a_worker_killed_mid_run_ends_its_agent(api_key, channel_prefix, use_llm, monkeypatch):
    llm = use_llm(lambda messages: done("too late"), delay=lambda messages: 60)
    # The killed worker is a process of its own; the server's embedded worker outlives it and
    # notices (its heartbeat stops) within a few seconds.
    monkeypatch.setenv("LLM_BASE_URL", llm.base_url)
    monkeypatch.setenv("LLM_MODEL", "served-model")
    monkeypatch.setenv("PERISCOPE_HEARTBEAT_SECONDS", "1")
    live = LiveServer(heartbeat_seconds=1, stale_after_seconds=3).start()
    victim = spawn_worker(channel_prefix, capacity=2)
    try:
        api = Api(live.api_url, api_key)

        def on_victim():
            """A session on the worker about to be killed: start sessions until one lands there."""
            found = BrowserSession.objects.filter(worker__pid=victim.pid, status="active").first()
            if found is None:
                started = start(api)["session_id"]
                if not BrowserSession.objects.filter(pk=started, worker__pid=victim.pid).exists():
                    api.delete(
                        f"/sessions/{started}/stop"
                    )  # not there: leave room under the team cap
            return found

        session = wait_until(on_victim, timeout=60, interval=0.5)
        assert session, "no session landed on the worker"
        agent_id = start_agent(api, str(session.pk), task="Think slowly")["agent_id"]
        assert wait_until(lambda: llm.requests, timeout=30), (
            "the killed worker's agent was asking its model"
        )

        victim.send_signal(signal.SIGKILL)
        victim.wait(5)

        status = finished(api, agent_id, timeout=30)
        assert status["success"] is False
        assert status["stop_reason"].startswith("the session ended as error: worker_lost")
        assert api.get(f"/sessions/{session.pk}").json()["status"] == "error"
    finally:
        if victim.poll() is None:
            victim.send_signal(signal.SIGTERM)
            victim.wait(20)
        live.stop()
