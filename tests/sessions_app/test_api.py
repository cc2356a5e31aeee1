"""The Notte sessions API over real HTTP, a real worker and a real Chromium."""

import contextlib
import time

import pytest

from sessions_app.models import BrowserSession, SessionEvent

from .helpers import in_page, open_contexts, session_ids_on_worker, start, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_health_needs_no_key(live):
    import requests

    response = requests.get(f"{live.api_url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
    assert response.json()["workers"] >= 1


def test_start_answers_only_once_the_page_is_usable(api, live):
    session = start(api, headless=True)
    assert session["status"] == "active"
    assert session["session_id"] in session_ids_on_worker(live)
    assert in_page(live, session["session_id"], "document.readyState") == "complete"


def test_start_response_has_the_fields_the_sdk_requires(api):
    session = start(api)
    for field in ("session_id", "idle_timeout_minutes", "created_at", "last_accessed_at", "status"):
        assert field in session
    assert session["proxies"] is False
    assert session["browser_type"] == "chromium"
    assert session["idle_timeout_minutes"] == 3
    assert session["max_duration_minutes"] == 15
    assert "detail" not in session


def test_viewport_and_user_agent_are_applied_to_the_real_page(api, live):
    session = start(api, viewport_width=1024, viewport_height=700, user_agent="PeriscopeTest/1.0")
    sid = session["session_id"]
    assert (session["viewport_width"], session["viewport_height"]) == (1024, 700)
    assert in_page(live, sid, "[innerWidth, innerHeight]") == [1024, 700]
    assert in_page(live, sid, "navigator.userAgent") == "PeriscopeTest/1.0"


def test_a_warm_context_still_gets_the_requested_viewport(api, live):
    session = start(api, viewport_width=800, viewport_height=600)
    assert in_page(live, session["session_id"], "[innerWidth, innerHeight]") == [800, 600]


def test_aspect_ratio_picks_a_viewport(api, live):
    session = start(api, aspect_ratio="16:9")
    assert in_page(live, session["session_id"], "[innerWidth, innerHeight]") == [1920, 1080]


def test_allowed_chrome_args_become_context_options(api, live):
    session = start(api, chrome_args=["--lang=de-DE", "--window-size=900,700"])
    sid = session["session_id"]
    assert in_page(live, sid, "navigator.language") == "de-DE"
    assert in_page(live, sid, "[innerWidth, innerHeight]") == [900, 700]


def test_extra_http_headers_reach_the_site(api, live, site):
    session = start(api, extra_http_headers={"X-Periscope-Test": "yes"})
    sid = session["session_id"]
    live.call(lambda: live.worker.pool.get(sid).page.goto(f"{site.url}/echo"))
    echoed = {k.lower(): v for k, v in site.requests[-1]["headers"].items()}
    assert echoed.get("x-periscope-test") == "yes"


def test_deprecated_timeout_minutes_sets_the_idle_timeout(api):
    session = start(api, timeout_minutes=5)
    assert session["idle_timeout_minutes"] == 5


def test_vault_id_is_stored(api, vault_keyring):
    vault_id = api.post("/vaults/create", json={"name": "Shop"}).json()["vault_id"]
    session = start(api, vault_id=vault_id)
    assert session["vault_id"] == vault_id
    assert BrowserSession.objects.get(pk=session["session_id"]).vault_id == vault_id


def test_headed_session_runs_on_a_virtual_display(api, live):
    session = start(api, headless=False)
    assert session["headless"] is False
    assert "HeadlessChrome" not in in_page(live, session["session_id"], "navigator.userAgent")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"idle_timeout_minutes": 0}, "idle_timeout_minutes"),
        ({"idle_timeout_minutes": 16}, "idle_timeout_minutes"),
        ({"max_duration_minutes": 1441}, "max_duration_minutes"),
        ({"idle_timeout_minutes": 10, "max_duration_minutes": 5}, "idle_timeout_minutes"),
        ({"viewport_width": 1024}, "viewport_height"),
        ({"viewport_width": 50, "viewport_height": 600}, "viewport_width"),
        ({"aspect_ratio": "16:9", "viewport_width": 800, "viewport_height": 600}, "aspect_ratio"),
        ({"browser_type": "firefox"}, "browser_type"),
        ({"browser_type": "netscape"}, "browser_type"),
        ({"solve_captchas": True}, "solve_captchas"),
        ({"proxies": True}, "proxies"),
        ({"proxies": [{"type": "external", "server": "http://127.0.0.1:3128"}]}, "proxies"),
        ({"cdp_url": "wss://example.com/devtools"}, "cdp_url"),
        ({"chrome_args": ["--disable-web-security"]}, "chrome_args"),
        ({"extra_http_headers": {"Host": "evil.example"}}, "extra_http_headers"),
        ({"extra_http_headers": {"X-A": "a\r\nInjected: 1"}}, "extra_http_headers"),
        ({"profile": {"id": "p1", "persist": True}}, "profile"),
    ],
)
def test_bad_start_options_answer_422_naming_the_field_and_start_nothing(api, live, body, field):
    contexts_before = open_contexts(live)
    response = api.post("/sessions/start", json=body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["status"] == 422
    assert field in error["message"]
    assert BrowserSession.objects.count() == 0
    assert open_contexts(live) == contexts_before


def test_disabled_settings_are_named_in_the_refusal(api):
    cdp = api.post("/sessions/start", json={"cdp_url": "wss://example.com/devtools"}).json()
    assert "PERISCOPE_ALLOW_CDP_URL" in cdp["message"]
    proxy = api.post(
        "/sessions/start", json={"proxies": [{"type": "external", "server": "http://p:1"}]}
    ).json()
    assert "PERISCOPE_ALLOW_EXTERNAL_PROXIES" in proxy["message"]


def test_renderer_cmd_prefix_is_refused_and_never_runs(api, tmp_path):
    marker = tmp_path / "ran"
    script = tmp_path / "x.sh"
    script.write_text(f'#!/bin/sh\ntouch {marker}\nexec "$@"\n')
    script.chmod(0o755)
    response = api.post(
        "/sessions/start", json={"chrome_args": [f"--renderer-cmd-prefix={script}"]}
    )
    assert response.status_code == 422
    assert not marker.exists()


def test_remote_debugging_port_is_refused_and_nothing_listens(api):
    import psutil

    response = api.post("/sessions/start", json={"chrome_args": ["--remote-debugging-port=9333"]})
    assert response.status_code == 422
    listening = {
        c.laddr.port for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN
    }
    assert 9333 not in listening


def test_chromium_opens_no_listening_socket_and_gets_no_secrets_in_its_environment(api, live):
    import psutil

    start(api)
    pids = live.worker.pool.stats().browser_pids
    assert pids
    for pid in pids:
        process = psutil.Process(pid)
        assert [c for c in process.net_connections() if c.status == psutil.CONN_LISTEN] == []
        names = set(process.environ())
        assert not {
            n for n in names if n.startswith(("DJANGO_", "DATABASE_", "PERISCOPE_", "REDIS_"))
        }
        assert not {n for n in names if n.endswith("_KEY")}


def test_status_list_and_pagination(api):
    first = start(api)["session_id"]
    second = start(api)["session_id"]
    api.delete(f"/sessions/{first}/stop")

    active = api.get(
        "/sessions/", params={"only_active": "True", "page": 1, "page_size": 10}
    ).json()
    assert [s["session_id"] for s in active] == [second]
    everything = api.get("/sessions", params={"only_active": "False"}).json()
    assert {s["session_id"] for s in everything} == {first, second}
    page_two = api.get(
        "/sessions/", params={"only_active": "False", "page": 2, "page_size": 1}
    ).json()
    assert [s["session_id"] for s in page_two] == [first]
    assert api.get(f"/sessions/{first}").json()["status"] == "closed"


def test_stop_is_idempotent_and_closes_the_context(api, live):
    sid = start(api)["session_id"]
    first = api.delete(f"/sessions/{sid}/stop")
    second = api.delete(f"/sessions/{sid}/stop")
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "closed"
    assert first.json()["closed_at"]
    assert sid not in session_ids_on_worker(live)


def test_every_state_change_is_recorded_with_its_reason(api):
    sid = start(api)["session_id"]
    api.delete(f"/sessions/{sid}/stop")
    events = list(SessionEvent.objects.filter(session_id=sid).values_list("status", "reason"))
    assert [status for status, _ in events] == ["starting", "active", "closed"]
    assert "stopped by key" in events[-1][1]


def test_idle_timeout_ends_the_session_and_closes_its_context(api, live):
    sid = start(api, idle_timeout_minutes=1)["session_id"]
    live.clock.offset = 61
    ended = wait_until(
        lambda: api.get(f"/sessions/{sid}").json()["status"] == "timed_out", timeout=5
    )
    assert ended
    body = api.get(f"/sessions/{sid}").json()
    assert body["closed_at"]
    assert sid not in session_ids_on_worker(live)
    assert "idle timeout" in SessionEvent.objects.filter(session_id=sid).last().reason


def test_max_duration_ends_an_active_session(api, live):
    sid = start(api, idle_timeout_minutes=2, max_duration_minutes=2)["session_id"]
    live.clock.offset = 121
    assert wait_until(
        lambda: api.get(f"/sessions/{sid}").json()["status"] == "timed_out", timeout=5
    )
    assert "max duration" in SessionEvent.objects.filter(session_id=sid).last().reason
    assert sid not in session_ids_on_worker(live)


def test_activity_keeps_a_session_alive(api, live):
    from datetime import timedelta

    from django.utils import timezone

    sid = start(api, idle_timeout_minutes=1)["session_id"]
    # 50 s without activity...
    BrowserSession.objects.filter(pk=sid).update(
        last_accessed_at=timezone.now() - timedelta(seconds=50)
    )
    api.get(f"/sessions/{sid}/cookies")  # ...then a command: activity
    live.clock.offset = 30  # 80 s after the old activity, 30 s after the new one
    wait_until(lambda: False, timeout=2.5)
    assert api.get(f"/sessions/{sid}").json()["status"] == "active"
    live.clock.offset = 61
    assert wait_until(
        lambda: api.get(f"/sessions/{sid}").json()["status"] == "timed_out", timeout=5
    )


def test_stopping_a_timed_out_session_says_already_closed(api, live):
    sid = start(api, idle_timeout_minutes=1)["session_id"]
    live.clock.offset = 61
    wait_until(lambda: api.get(f"/sessions/{sid}").json()["status"] == "timed_out", timeout=5)
    response = api.delete(f"/sessions/{sid}/stop")
    assert response.status_code == 409
    assert "already closed" in response.json()["message"]
    assert api.get(f"/sessions/{sid}").json()["status"] == "timed_out"


def test_team_cap_answers_429_and_creates_no_context(api, live, settings):
    settings.PERISCOPE_TEAM_SESSION_CAP = 2
    first = start(api)["session_id"]
    start(api)
    contexts = open_contexts(live)
    refused = api.post("/sessions/start", json={})
    assert refused.status_code == 429
    assert "at once (2)" in refused.json()["message"]
    assert refused.headers["Retry-After"]
    assert open_contexts(live) == contexts == 2
    api.delete(f"/sessions/{first}/stop")
    assert api.post("/sessions/start", json={}).status_code == 200


def test_debug_answers_the_contract_shape(api, live):
    sid = start(api)["session_id"]
    debug = api.get(f"/sessions/{sid}/debug").json()
    assert set(debug["ws"]) == {"cdp", "recording", "logs"}
    cdp, _, query = debug["ws"]["cdp"].partition("?token=")
    assert (
        cdp == f"ws://127.0.0.1:{live.port}/cdp/{sid}" and len(query) > 40
    )  # a signed token for the caller
    assert debug["debug_url"].endswith(f"/sessions/{sid}/")
    assert [(t["metadata"]["tab_id"], t["metadata"]["url"]) for t in debug["tabs"]] == [
        (0, "about:blank")
    ]
    assert api.delete(f"/sessions/{sid}/stop").status_code == 200
    assert api.get(f"/sessions/{sid}/debug").json()["tabs"] == []  # a closed session has no tabs


def test_cookies_round_trip_through_the_browser(api, live):
    sid = start(api)["session_id"]
    expires = int(time.time()) + 30 * 86400  # Chromium caps cookie lifetimes at 400 days
    cookie = {
        "name": "flavour",
        "value": "oat",
        "domain": "example.com",
        "path": "/",
        "httpOnly": True,
        "secure": True,
        "sameSite": "Strict",
        "expirationDate": expires,
    }
    answer = api.post(f"/sessions/{sid}/cookies", json={"cookies": [cookie]})
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "message": "1 cookie(s) set"}
    cookies = api.get(f"/sessions/{sid}/cookies").json()["cookies"]
    assert len(cookies) == 1
    got = cookies[0]
    assert (got["name"], got["value"], got["domain"], got["httpOnly"], got["sameSite"]) == (
        "flavour",
        "oat",
        "example.com",
        True,
        "Strict",
    )
    assert got["expires"] == got["expirationDate"] == expires
    in_browser = live.call(lambda: live.worker.pool.get(sid).context.cookies())
    assert in_browser[0]["value"] == "oat"


def test_cookie_with_samesite_none_must_be_secure(api):
    sid = start(api)["session_id"]
    response = api.post(
        f"/sessions/{sid}/cookies",
        json={
            "cookies": [
                {
                    "name": "a",
                    "value": "b",
                    "domain": "example.com",
                    "path": "/",
                    "httpOnly": False,
                    "sameSite": "None",
                }
            ]
        },
    )
    assert response.status_code == 422
    assert "secure" in response.json()["message"]


BAD_COOKIES = [
    ("domain", {"domain": ""}),
    ("name", {"name": "fla\x00vour"}),
    ("expires", {"expires": 1e18}),
    ("expirationDate", {"expirationDate": 1e18}),
]


def test_a_cookie_a_browser_would_refuse_answers_422_naming_it_and_sets_nothing(api, live):
    sid = start(api)["session_id"]
    good = {"name": "flavour", "value": "oat", "domain": "example.com", "path": "/"}
    for field, change in BAD_COOKIES:
        # The bad cookie comes second: the good one before it must not be set either.
        response = api.post(f"/sessions/{sid}/cookies", json={"cookies": [good, good | change]})
        assert response.status_code == 422, (field, response.text)
        body = response.json()
        assert body["status"] == 422
        assert body["message"].startswith(f"cookies.1.{field}: "), body
        assert [error["loc"] for error in body["detail"]] == [["body", f"cookies.1.{field}"]]
        assert api.get(f"/sessions/{sid}/cookies").json()["cookies"] == []
    assert live.call(lambda: live.worker.pool.get(sid).context.cookies()) == []


def test_commands_on_an_ended_session_say_so(api):
    sid = start(api)["session_id"]
    api.delete(f"/sessions/{sid}/stop")
    response = api.get(f"/sessions/{sid}/cookies")
    assert response.status_code == 409
    assert "closed" in response.json()["message"]


def test_unknown_session_is_404(api):
    for path in ("/sessions/0b6f5e4a-2a9b-4c1e-9a57-5d1f7f3f0a11", "/sessions/not-a-uuid"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["status"] == 404


def test_session_start_and_stop_are_in_the_team_audit_log(api):
    from teams_app.models import AuditEvent

    sid = start(api)["session_id"]
    api.delete(f"/sessions/{sid}/stop")
    entries = list(
        AuditEvent.objects.filter(target=f"session {sid}").values_list("action", "actor_key__name")
    )
    assert entries == [("session.stopped", "tests"), ("session.started", "tests")]


def test_a_crashed_page_ends_its_session_as_error(api, live):
    sid = start(api)["session_id"]
    other = start(api)["session_id"]

    async def crash():
        page = live.worker.pool.get(sid).page
        # The navigation dies with the renderer: that is the point.
        with contextlib.suppress(Exception):
            await page.goto("chrome://crash", timeout=5000)

    live.call(crash)
    assert wait_until(lambda: api.get(f"/sessions/{sid}").json()["status"] == "error", timeout=2)
    assert "crashed" in api.get(f"/sessions/{sid}").json()["error"]
    assert api.get(f"/sessions/{other}").json()["status"] == "active"
    # The crashed page's context is closed too: only the other session's stays open.
    assert wait_until(lambda: open_contexts(live) == 1, timeout=5)


def test_a_dead_browser_errors_its_sessions_and_the_worker_launches_a_new_one(api, live):
    import psutil

    sid = start(api)["session_id"]
    browser_process = next(
        p
        for p in map(psutil.Process, live.worker.pool.stats().browser_pids)
        if not any(arg.startswith("--type=") for arg in p.cmdline())
    )
    browser_process.kill()
    assert wait_until(lambda: api.get(f"/sessions/{sid}").json()["status"] == "error", timeout=2)
    replacement = start(api)
    assert replacement["status"] == "active"
    assert in_page(live, replacement["session_id"], "1 + 1") == 2
