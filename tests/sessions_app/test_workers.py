"""The process model: scale-out workers over Redis and PostgreSQL, and no leaks."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from sessions_app.models import BrowserSession, BrowserWorker
from tests.conftest import Api, database_url_for_subprocess
from tests.live import LiveServer

from .helpers import chromium_pids, open_contexts, start, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]

scale_out = pytest.mark.skipif(
    not settings.REDIS_URL or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="scale-out needs REDIS_URL and a PostgreSQL DATABASE_URL (.ci/run sets both)",
)


def spawn_worker(channel_prefix: str, capacity: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": settings.REDIS_URL,
        "PERISCOPE_CHANNEL_PREFIX": channel_prefix,
        "PERISCOPE_WARM_CONTEXTS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_browser_worker", "--capacity", str(capacity)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@scale_out
def test_killing_a_worker_errors_its_sessions_and_leaves_the_other_working(api_key, channel_prefix):
    live = LiveServer(embedded_worker=False).start()
    workers = [spawn_worker(channel_prefix, capacity=3) for _ in range(2)]
    try:
        assert wait_until(lambda: BrowserWorker.objects.filter(stopped_at__isnull=True).count() == 2, timeout=30)
        api = Api(live.api_url, api_key)
        sessions = [start(api)["session_id"] for _ in range(6)]
        owners = dict(BrowserSession.objects.filter(pk__in=sessions).values_list("pk", "worker__pid"))
        assert set(owners.values()) == {w.pid for w in workers}, "both workers carry sessions"

        victim, survivor = workers
        victim_chromium = chromium_pids(psutil.Process(victim.pid))
        assert victim_chromium
        victim_sessions = [str(s) for s, pid in owners.items() if pid == victim.pid]
        survivor_sessions = [str(s) for s, pid in owners.items() if pid == survivor.pid]

        killed_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        victim.wait(5)

        assert wait_until(lambda: not any(running(p) for p in victim_chromium), timeout=5), \
            "the killed worker's Chromium is gone within 5 s"
        errored = wait_until(
            lambda: all(api.get(f"/sessions/{s}").json()["status"] == "error" for s in victim_sessions),
            timeout=15 - (time.monotonic() - killed_at), interval=0.5,
        )
        assert errored, "the killed worker's sessions end as error within 15 s"
        assert "worker_lost" in api.get(f"/sessions/{victim_sessions[0]}").json()["error"]

        for sid in survivor_sessions:
            assert api.get(f"/sessions/{sid}").json()["status"] == "active"
            cookie = {"name": "alive", "value": sid[:8], "domain": "example.com", "path": "/", "httpOnly": False}
            assert api.post(f"/sessions/{sid}/cookies", json={"cookies": [cookie]}).status_code == 200
            assert api.get(f"/sessions/{sid}/cookies").json()["cookies"][0]["value"] == sid[:8]
        # The survivor is full (capacity 3); once a slot frees, it takes the next start.
        assert api.delete(f"/sessions/{survivor_sessions[0]}/stop").json()["status"] == "closed"
        replacement = start(api)["session_id"]
        assert BrowserSession.objects.get(pk=replacement).worker.pid == survivor.pid
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(20)
        live.stop()


def test_a_hundred_start_stop_cycles_leak_no_chromium_process_or_context(live, api):
    for _ in range(3):  # warm up: the pool and renderer processes settle
        api.delete(f"/sessions/{start(api)['session_id']}/stop")
    baseline = wait_until(lambda: len(chromium_pids()) if open_contexts(live) == 0 else 0, timeout=10)

    for _ in range(100):
        sid = start(api)["session_id"]
        assert api.delete(f"/sessions/{sid}/stop").json()["status"] == "closed"

    assert open_contexts(live) == 0
    assert live.worker.pool.session_ids() == []
    settled = wait_until(lambda: len(chromium_pids()) <= baseline, timeout=10)
    assert settled, f"{len(chromium_pids())} Chromium processes after 100 cycles, {baseline} before"
    assert BrowserSession.objects.filter(status="closed").count() == 103
