"""Every endpoint: a key sees only its team's objects; another team's id is a plain 404."""

import pytest
import requests

from .helpers import session_ids_on_worker, start

pytestmark = pytest.mark.django_db(transaction=True)

COOKIE = {"name": "a", "value": "b", "domain": "example.com", "path": "/", "httpOnly": False}
SESSION_ENDPOINTS = [
    ("GET", "/sessions/{sid}", None),
    ("DELETE", "/sessions/{sid}/stop", None),
    ("GET", "/sessions/{sid}/debug", None),
    ("GET", "/sessions/{sid}/cookies", None),
    ("POST", "/sessions/{sid}/cookies", {"cookies": [COOKIE]}),
    ("GET", "/sessions/{sid}/debug/tab", None),
    ("GET", "/sessions/{sid}/replay", None),
    ("GET", "/sessions/{sid}/offset", None),
    ("POST", "/sessions/{sid}/page/observe", {}),
    ("POST", "/sessions/{sid}/page/execute", {"type": "goto", "url": "about:blank"}),
    ("POST", "/sessions/{sid}/page/scrape", {}),
    ("POST", "/sessions/{sid}/page/screenshot", {}),
    ("GET", "/v1/browser/sessions/{sid}", None),
    ("DELETE", "/v1/browser/sessions/{sid}", None),
]
ALL_ENDPOINTS = [
    ("POST", "/sessions/start", {}),
    ("GET", "/sessions/", None),
    ("POST", "/v1/browser/sessions/", {}),
    ("GET", "/v1/browser/sessions/", None),
    ("POST", "/scrape", {"url": "about:blank"}),
    ("POST", "/scrape_from_html", {"html": "<p>x</p>"}),
    ("POST", "/search", {"q": "x"}),
    *SESSION_ENDPOINTS,
]


@pytest.mark.parametrize(("method", "path", "body"), SESSION_ENDPOINTS)
def test_another_teams_session_answers_404_like_a_missing_one(
    api, outsider_api, live, method, path, body
):
    sid = start(api)["session_id"]
    theirs = outsider_api.request(method, path.format(sid=sid), json=body)
    missing = outsider_api.request(
        method, path.format(sid="0b6f5e4a-2a9b-4c1e-9a57-5d1f7f3f0a11"), json=body
    )
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json().keys() == missing.json().keys()
    # ...and nothing happened to the session.
    assert api.get(f"/sessions/{sid}").json()["status"] == "active"
    assert sid in session_ids_on_worker(live)


def test_lists_show_only_the_teams_own_sessions(api, outsider_api):
    mine = start(api)["session_id"]
    theirs = outsider_api.post("/sessions/start", json={}).json()["session_id"]
    assert [
        s["session_id"] for s in api.get("/sessions/", params={"only_active": "False"}).json()
    ] == [mine]
    assert [s["session_id"] for s in outsider_api.get("/v1/browser/sessions/").json()] == [theirs]


@pytest.mark.parametrize(("method", "path", "body"), ALL_ENDPOINTS)
def test_every_endpoint_needs_a_valid_key(live, api_key, method, path, body):
    url = live.api_url + path.format(sid="0b6f5e4a-2a9b-4c1e-9a57-5d1f7f3f0a11")
    missing = requests.request(method, url, json=body, timeout=10)
    wrong = requests.request(
        method, url, json=body, timeout=10, headers={"Authorization": "Bearer nk_abc.def"}
    )
    assert missing.status_code == wrong.status_code == 401


def test_a_revoked_key_is_refused_on_the_next_request(api, team, owner):
    from teams_app.models import ApiKey, Membership
    from teams_app.services import api_key_revoke

    assert api.get("/sessions/").status_code == 200
    key = ApiKey.objects.get(team=team)
    api_key_revoke(actor=Membership.objects.get(team=team, user=owner), api_key=key)
    assert api.get("/sessions/").status_code == 401


def test_a_key_without_the_sessions_scope_gets_403(live, team):
    from teams_app.services import api_key_create

    _, raw = api_key_create(team=team, name="agents only", scopes=["agents"])
    response = requests.get(
        f"{live.api_url}/sessions/", headers={"Authorization": f"Bearer {raw}"}, timeout=10
    )
    assert response.status_code == 403
    assert "'sessions' scope" in response.json()["message"]


def test_x_api_key_header_is_accepted(live, api_key):
    response = requests.get(f"{live.api_url}/sessions/", headers={"X-API-Key": api_key}, timeout=10)
    assert response.status_code == 200


def test_a_console_login_cookie_does_not_authenticate_the_api(live, owner, client):
    client.force_login(owner)
    cookie = client.cookies["sessionid"].value
    response = requests.get(f"{live.api_url}/sessions/", cookies={"sessionid": cookie}, timeout=10)
    assert response.status_code == 401
