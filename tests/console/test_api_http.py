"""Everything under /api answers JSON in its API's error shape, whatever went wrong, and bad input
is refused before it can start anything."""

import threading
import time

import pytest
import requests

from sessions_app.models import BrowserSession
from tests.sessions_app.helpers import start, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def notte_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and body["message"]
    return body


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("[1, 2]", "application/json", 422),
        ('"headless"', "application/json", 422),
        ("{}", "text/plain", 415),
        ("headless=true", "application/x-www-form-urlencoded", 415),
        ("{not json", "application/json", 422),
    ],
)
def test_a_start_body_that_is_not_a_json_object_starts_nothing(api, data, content_type, status):
    response = api.post("/sessions/start", data=data, headers={"Content-Type": content_type})
    notte_error(response, status)
    assert BrowserSession.objects.count() == 0


def test_a_body_over_the_limit_answers_413_before_it_is_read(api, settings):
    body = b'{"user_agent": "' + b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'
    response = api.post("/sessions/start", data=body, headers={"Content-Type": "application/json"})
    assert "larger than this server accepts" in notte_error(response, 413)["message"]
    assert BrowserSession.objects.count() == 0


def test_a_chunked_body_over_the_limit_answers_413(api, settings):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def chunks():
        yield b'{"html": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    response = api.post(
        "/scrape_from_html", data=chunks(), headers={"Content-Type": "application/json"}
    )
    notte_error(response, 413)


def test_deeply_nested_json_answers_422(api):
    session = start(api)["session_id"]
    action = {"type": "click", "selector": {"css_selector": "a"}}
    inner = action["selector"]
    for _ in range(100):
        inner["nested"] = {}
        inner = inner["nested"]
    response = api.post(f"/sessions/{session}/page/execute", json=action)
    assert "nested more than" in notte_error(response, 422)["message"]


def test_a_huge_page_number_is_a_422_on_both_list_apis(api, live):
    notte_error(api.get("/sessions/", params={"page": 10**15}), 422)
    v1 = requests.get(
        f"{live.api_url}/v1/browser/sessions/",
        params={"page": 10**15},
        headers={"X-API-Key": api.headers["Authorization"].split()[1]},
        timeout=10,
    )
    assert v1.status_code == 422 and v1.headers["Content-Type"].startswith("application/json")
    assert v1.json()["detail"][0]["loc"] == ["query", "page"]


def test_unknown_routes_and_wrong_methods_answer_json(api, live):
    assert "/api/docs" in notte_error(api.get("/no/such/route"), 404)["message"]
    assert "use POST" in notte_error(api.put("/sessions/start", json={}), 405)["message"]
    v1 = requests.get(f"{live.api_url}/v1/nothing-here", timeout=10)
    assert v1.status_code == 404 and set(v1.json()) == {"detail"}


def test_a_foreign_host_answers_400_json(live):
    response = requests.get(f"{live.api_url}/health", headers={"Host": "evil.example"}, timeout=10)
    assert "DJANGO_ALLOWED_HOSTS" in notte_error(response, 400)["message"]


def test_a_websocket_to_a_path_with_no_route_is_refused_cleanly(live):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{live.port}/ws/no-such-socket/", origin=live.url, open_timeout=10)
    assert refused.value.response.status_code == 403


def test_a_status_read_right_after_an_execute_shows_that_step(api, site):
    session = start(api)["session_id"]
    for round_no in range(3):
        api.post(
            f"/sessions/{session}/page/execute",
            json={"type": "goto", "url": f"{site.url}/login.html"},
        )
        steps = api.get(f"/sessions/{session}").json()["steps"]
        assert len(steps) == round_no + 1


def test_a_one_shot_scrape_takes_a_slot_of_the_team_cap(api, site, settings):
    settings.PERISCOPE_TEAM_SESSION_CAP = 1
    start(api)
    response = api.post("/scrape", json={"url": f"{site.url}/article.html"})
    notte_error(response, 429)


def test_timeouts_are_enforced_while_a_one_shot_scrape_runs(api, live, site):
    idle = start(api, idle_timeout_minutes=1)["session_id"]
    result = {}

    def slow_scrape():
        result["response"] = api.post("/scrape", json={"url": f"{site.url}/slow?ms=4000"})

    scraping = threading.Thread(target=slow_scrape)
    scraping.start()
    time.sleep(0.5)  # the scrape's session is open on the worker now
    live.clock.offset = 61
    assert wait_until(
        lambda: api.get(f"/sessions/{idle}").json()["status"] == "timed_out", timeout=3
    )
    scraping.join(30)
    assert result["response"].status_code == 200, result["response"].text
    assert result["response"].json()["markdown"]
