"""Whatever sequence of starts, stops, page crashes and browser kills happens, the live session
rows, the sessions a worker holds and its open browser contexts are the same sessions, and a
team never has more than its cap. Hypothesis draws new sequences each run (up to 180 steps)
against a real worker and Chromium."""

import contextlib

import psutil
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from sessions_app.models import LIVE_STATUSES, BrowserSession

from .helpers import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CAP = 3


def test_rows_sessions_and_contexts_agree_after_any_sequence(api, live, settings):
    settings.PERISCOPE_TEAM_SESSION_CAP = CAP
    pool = live.worker.pool

    def contexts_in_use() -> int:
        stats = pool.stats(with_pids=False)
        return stats.contexts - stats.warm

    class Sessions(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.live: set[str] = set()

        @rule()
        def start(self):
            response = api.post("/sessions/start", json={})
            if len(self.live) < CAP:
                assert response.status_code == 200, response.text
                self.live.add(response.json()["session_id"])
            else:
                assert response.status_code == 429, response.text
                assert response.headers["Retry-After"]

        @precondition(lambda self: self.live)
        @rule(data=st.data())
        def stop(self, data):
            sid = data.draw(st.sampled_from(sorted(self.live)))
            assert api.delete(f"/sessions/{sid}/stop").json()["status"] == "closed"
            self.live.discard(sid)

        @precondition(lambda self: self.live)
        @rule(data=st.data())
        def crash_a_page(self, data):
            sid = data.draw(st.sampled_from(sorted(self.live)))

            async def crash():
                with contextlib.suppress(Exception):
                    await pool.get(sid).page.goto("chrome://crash", timeout=5000)

            live.call(crash)
            assert wait_until(
                lambda: api.get(f"/sessions/{sid}").json()["status"] == "error", timeout=5
            )
            self.live.discard(sid)

        @precondition(lambda self: self.live)
        @rule()
        def kill_the_browser(self):
            browser = next(
                p
                for p in map(psutil.Process, pool.stats().browser_pids)
                if not any(arg.startswith("--type=") for arg in p.cmdline())
            )
            browser.kill()
            ended = lambda: all(  # noqa: E731
                api.get(f"/sessions/{sid}").json()["status"] == "error" for sid in self.live
            )
            assert wait_until(ended, timeout=5)
            self.live.clear()

        @invariant()
        def rows_sessions_and_contexts_agree(self):
            def agree() -> bool:
                rows = {
                    str(pk)
                    for pk in BrowserSession.objects.filter(status__in=LIVE_STATUSES).values_list(
                        "pk", flat=True
                    )
                }
                held = set(pool.session_ids())
                return (
                    rows == held == self.live
                    and contexts_in_use() == len(self.live)
                    and live.worker._starting == 0
                )

            assert wait_until(agree, timeout=5), (
                len(self.live),
                BrowserSession.objects.filter(status__in=LIVE_STATUSES).count(),
                len(pool.session_ids()),
                contexts_in_use(),
            )
            assert len(self.live) <= CAP

        def teardown(self):
            for sid in self.live:
                api.delete(f"/sessions/{sid}/stop")

    run_state_machine_as_test(
        Sessions,
        settings=settings_for_machine(),
    )


def settings_for_machine():
    return hypothesis_settings(
        max_examples=6,
        stateful_step_count=30,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
