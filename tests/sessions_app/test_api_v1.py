"""The v1 browser-sessions API: its own shapes, the same sessions underneath."""

import pytest
import requests

from .helpers import in_page

pytestmark = pytest.mark.django_db(transaction=True)

RESPONSE_FIELDS = {
    "session_id",
    "status",
    "viewport_width",
    "viewport_height",
    "user_agent",
    "created_at",
    "last_activity",
    "expires_at",
}


@pytest.fixture
def v1(live, api_key):
    session = requests.Session()
    session.headers["X-API-Key"] = api_key
    base = f"{live.api_url}/v1/browser/sessions/"
    yield lambda method, suffix="", **kw: session.request(method, base + suffix, timeout=60, **kw)
    session.close()


def test_create_uses_the_documented_defaults(v1, live):
    response = v1("POST", json={})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == RESPONSE_FIELDS
    assert (body["viewport_width"], body["viewport_height"]) == (1920, 1080)
    assert body["status"] == "active"
    assert body["expires_at"] > body["created_at"]
    assert in_page(live, body["session_id"], "[innerWidth, innerHeight]") == [1920, 1080]


def test_create_with_options(v1, live):
    body = v1(
        "POST", json={"viewport_width": 1000, "viewport_height": 700, "user_agent": "V1Agent"}
    ).json()
    assert (body["viewport_width"], body["viewport_height"], body["user_agent"]) == (
        1000,
        700,
        "V1Agent",
    )
    assert in_page(live, body["session_id"], "navigator.userAgent") == "V1Agent"


def test_validation_errors_are_fastapi_shaped(v1):
    response = v1("POST", json={"viewport_width": "wide"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "viewport_width"]
    assert {"loc", "msg", "type"} <= set(detail[0])


def test_get_list_delete_and_the_same_session_in_the_notte_api(v1, api):
    sid = v1("POST", json={}).json()["session_id"]
    assert v1("GET", sid).json()["session_id"] == sid
    assert [s["session_id"] for s in v1("GET").json()] == [sid]
    assert api.get(f"/sessions/{sid}").json()["viewport_width"] == 1920
    deleted = v1("DELETE", sid)
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "closed"
    assert deleted.json()["expires_at"] is None
    assert api.get(f"/sessions/{sid}").json()["status"] == "closed"


def test_errors_use_detail(v1):
    response = v1("GET", "0b6f5e4a-2a9b-4c1e-9a57-5d1f7f3f0a11")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]
