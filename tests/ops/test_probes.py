"""/healthz and /readyz as a load balancer or Kubernetes sees them: a real server, a real
database and channel layer, and dependencies that refuse or hang for real."""

import asyncio
import socket
import threading
from datetime import timedelta

import psycopg
import pytest
import requests
from channels_redis.core import RedisChannelLayer
from django.conf import settings as django_settings
from django.utils import timezone

from console import probes
from core.readiness import Readiness
from sessions_app.models import BrowserWorker
from tests.live import LiveServer, free_port
from tests.sessions_app.helpers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# The probe's Host, as Kubernetes sends it: the pod's address, in no ALLOWED_HOSTS list.
POD_HOST = {"Host": "10.1.2.3:8000"}


class BlackHole:
    """A TCP server that accepts connections and never answers: a hung database or Redis."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


def leaks(text: str) -> list[str]:
    """What must never appear in a probe's answer."""
    db = django_settings.DATABASES["default"]
    words = [
        str(db["NAME"]),
        db.get("HOST") or "",
        db.get("USER") or "",
        socket.gethostname(),
        django_settings.REDIS_URL,
        "0.1.0",
        "Django",
        "postgres",
        "sqlite",
        "redis",
    ]
    return [w for w in words if w and w.lower() in text.lower()]


def test_healthz_needs_no_login_host_name_or_https(live, settings):
    settings.ALLOWED_HOSTS = ["periscope.example"]
    settings.SECURE_SSL_REDIRECT = True
    response = requests.get(
        f"{live.url}/healthz", headers=POD_HOST, timeout=10, allow_redirects=False
    )
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert requests.head(f"{live.url}/healthz", headers=POD_HOST, timeout=10).status_code == 200
    ready = requests.get(f"{live.url}/readyz", headers=POD_HOST, timeout=10, allow_redirects=False)
    assert ready.status_code == 200
    # The exemption is for the probes only: the console still checks the host name.
    assert requests.get(f"{live.url}/sessions/", headers=POD_HOST, timeout=10).status_code == 400
    refused = requests.post(f"{live.url}/readyz", headers=POD_HOST, timeout=10)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"


def test_readyz_names_each_check_reports_the_vault_and_leaks_nothing(live, settings, tmp_path):
    response = requests.get(f"{live.url}/readyz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "channel_layer": "ok", "vault": "sealed", "workers": 1},
    }
    assert leaks(response.text) == []

    # A keyring put in place unseals the vaults; readiness reports it within its cache period.
    from vaults_app import keyring

    settings.PERISCOPE_VAULT_KEYRING_FILE = tmp_path / "keyring.json"
    keyring.write(settings.PERISCOPE_VAULT_KEYRING_FILE, keyring.generate())
    unsealed = wait_until(
        lambda: (
            requests.get(f"{live.url}/readyz", timeout=10).json()["checks"]["vault"] == "unsealed"
        )
    )
    assert unsealed
    health = requests.get(f"{live.api_url}/health", timeout=10).json()
    assert health == {"status": "healthy", "version": "0.1.0", "workers": 1, "vault": "unsealed"}


def test_a_web_process_with_no_live_worker_is_ready_and_says_so(transactional_db):
    # A worker that stopped heartbeating a minute ago (and no reaper marked yet) is not counted.
    BrowserWorker.objects.create(
        channel="gone",
        hostname="elsewhere",
        pid=1,
        capacity=1,
        heartbeat_at=timezone.now() - timedelta(minutes=1),
    )
    server = LiveServer(embedded_worker=False).start()
    try:
        response = requests.get(f"{server.url}/readyz", timeout=10)
    finally:
        server.stop()
    assert response.status_code == 200
    assert response.json()["checks"]["workers"] == 0


def test_probes_every_few_milliseconds_cost_one_round_of_checks(live, monkeypatch):
    monkeypatch.setattr(probes.readiness, "ttl", 3600.0)
    requests.get(f"{live.url}/readyz", timeout=10)
    before = probes.readiness.rounds
    for _ in range(30):
        assert requests.get(f"{live.url}/readyz", timeout=10).status_code == 200
        assert requests.get(f"{live.api_url}/health", timeout=10).status_code == 200
    assert probes.readiness.rounds == before


def test_a_channel_layer_that_refuses_makes_the_process_not_ready(live, monkeypatch):
    closed_port = free_port()
    dead = RedisChannelLayer(hosts=[f"redis://127.0.0.1:{closed_port}/0"])
    monkeypatch.setattr(
        probes.readiness, "probes", {"channel_layer": lambda: probes.channel_layer_check(dead)}
    )
    monkeypatch.setattr(probes.readiness, "ttl", 0.0)
    response = requests.get(f"{live.url}/readyz", timeout=10)
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "ok", "channel_layer": "down", "vault": "sealed", "workers": 1},
    }
    assert str(closed_port) not in response.text
    health = requests.get(f"{live.api_url}/health", timeout=10)
    assert health.status_code == 503 and health.json()["status"] == "unhealthy"
    # Liveness does not depend on it: restarting the process would not bring Redis back.
    assert requests.get(f"{live.url}/healthz", timeout=10).status_code == 200


def test_a_hung_database_and_redis_get_an_answer_in_time(black_hole):
    redis_hole = BlackHole()

    def hung_database():
        with psycopg.connect(
            host="127.0.0.1", port=black_hole.port, dbname="x", user="x", connect_timeout=60
        ):
            return {"database": "ok"}

    hung_redis = RedisChannelLayer(hosts=[f"redis://127.0.0.1:{redis_hole.port}/0"])
    readiness = Readiness(
        blocking=hung_database,
        blocking_timeout={"database": "timeout"},
        probes={"channel_layer": lambda: probes.channel_layer_check(hung_redis)},
        required=("database", "channel_layer"),
    )

    async def probe_storm():
        return await asyncio.gather(*(readiness.report() for _ in range(10)))

    try:
        reports = asyncio.run(probe_storm())
    finally:
        redis_hole.close()
    for report in reports:
        assert report.ready is False
        assert report.checks == {"database": "timeout", "channel_layer": "timeout"}
    assert readiness.rounds == 1  # ten callers, one round of checks
    assert len(black_hole.accepted) <= 1


def test_a_stuck_check_is_not_started_again_while_it_hangs():
    gate = threading.Event()
    calls = []

    def stuck_until_released():
        calls.append(1)
        gate.wait(60)
        return {"database": "ok"}

    readiness = Readiness(
        blocking=stuck_until_released,
        blocking_timeout={"database": "timeout"},
        probes={},
        required=("database",),
        ttl=0.0,
    )

    async def rounds(n):
        return [await readiness.report() for _ in range(n)]

    try:
        stuck = asyncio.run(rounds(3))
    finally:
        gate.set()
        readiness.close()  # waits for the run still going
    assert [r.checks["database"] for r in stuck] == ["timeout"] * 3
    assert readiness.rounds == 3
    assert len(calls) == 1  # one thread stuck, not one more per round
