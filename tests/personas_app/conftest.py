"""Persona tests run the web app (uvicorn, no browser worker: personas need no Chromium) and the
real SMTP server on the same asyncio loop, as `make run` does."""

import pytest

from personas_app.smtp import MailServer
from tests.live import LiveServer


@pytest.fixture
def live(transactional_db):
    server = LiveServer(embedded_worker=False).start()
    yield server
    server.stop()


@pytest.fixture
def mail_server(live):
    server = live.call(lambda: MailServer(host="127.0.0.1", port=0).start())
    yield server
    live.call(server.stop)


@pytest.fixture
def persona(api):
    return api.post("/personas/create", json={}).json()
