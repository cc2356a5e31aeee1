"""The real notte-sdk 1.8.28 client against a Periscope server."""

import pytest
from notte_sdk import NotteClient

from .helpers import session_ids_on_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live, api_key):
    return NotteClient(api_key=api_key, server_url=live.api_url)


def test_health_check(client):
    client.health_check()


def test_start_status_list_stop(client, live):
    session = client.sessions.start(
        headless=True, idle_timeout_minutes=4, viewport_width=1100, viewport_height=800
    )
    sid = session.session_id
    assert session.status == "active"
    assert sid in session_ids_on_worker(live)
    status = client.sessions.status(sid)
    assert status.idle_timeout_minutes == 4
    assert status.viewport_width == 1100
    listed = client.sessions.list(only_active=True, page_size=10, page=1)
    assert [s.session_id for s in listed] == [sid]
    stopped = client.sessions.stop(sid)
    assert stopped.status == "closed"
    assert sid not in session_ids_on_worker(live)


def test_session_context_manager_with_cookies(client, live):
    with client.Session(headless=True) as session:
        sid = session.session_id
        session.set_cookies(
            cookies=[
                {
                    "name": "sdk",
                    "value": "yes",
                    "domain": "example.com",
                    "path": "/",
                    "httpOnly": False,
                }
            ]
        )
        cookies = session.get_cookies()
        assert [(c["name"], c["value"]) for c in cookies] == [("sdk", "yes")]
        assert session.debug_info().ws.cdp.partition("?")[0].endswith(f"/cdp/{sid}")
    assert client.sessions.status(sid).status == "closed"


def test_stop_twice_is_fine(client):
    session = client.sessions.start(headless=True)
    client.sessions.stop(session.session_id)
    assert client.sessions.stop(session.session_id).status == "closed"
