"""The live layer through the real ASGI app, the real worker and Chromium: frames and events on
websockets, two rates, tabs, slow watchers, and the control lease."""

import io
import time

import pytest
from django.urls import reverse
from PIL import Image
from websockets.exceptions import InvalidStatus

from tests.sessions_app.helpers import start, wait_until
from tests.sessions_app.live_client import console_http, console_socket

pytestmark = pytest.mark.django_db(transaction=True)


def goto(api, session_id: str, url: str) -> dict:
    result = api.post(
        f"/sessions/{session_id}/page/execute", json={"type": "goto", "url": url}
    ).json()
    assert result["success"], result
    return result


def feeds(live, session_id: str):
    return live.call(lambda: _feeds(live, session_id))


async def _feeds(live, session_id):
    session = live.worker.pool.get(session_id)
    return {
        kind: (
            session.feeds.holds(kind) if session.feeds else 0,
            bool(session.feeds and session.feeds.get(kind)),
        )
        for kind in ("full", "thumb")
    }


def test_a_watcher_gets_a_first_frame_at_once_even_on_a_static_page(api, live, site, owner):
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    socket = console_socket(live, f"/ws/sessions/{session}/", owner)
    hello = socket.until(lambda s: s.event("hello"))
    assert hello["can_control"] and hello["viewport"] == {"width": 1280, "height": 1080}
    assert hello["url"].endswith("/login.html")
    frame = socket.until(lambda s: s.frames and s.frames[0])
    assert frame.session_id == session and frame.jpeg[:3] == b"\xff\xd8\xff"
    assert frame.size[0] == 1280
    socket.close()


def test_steps_and_navigation_arrive_as_events_with_new_frames(api, live, site, owner):
    session = start(api)["session_id"]
    socket = console_socket(live, f"/ws/sessions/{session}/", owner)
    socket.until(lambda s: s.frames)
    before = len(socket.frames)
    goto(api, session, f"{site.url}/login.html")
    api.post(f"/sessions/{session}/page/observe", json={})
    fill = api.post(
        f"/sessions/{session}/page/execute",
        json={"type": "fill", "selector": "#email", "value": "secret-typed@example.com"},
    ).json()
    assert fill["success"]
    finished = socket.until(lambda s: s.event("step.finished", index=2))
    assert finished["action"]["value"] == "********"  # filled values are masked in events too
    assert finished["screenshot_url"] == reverse("sessions_app:step_screenshot", args=[session, 2])
    assert socket.event("step.started", index=1)["action"]["type"] == "goto"
    assert socket.until(lambda s: s.event("page.navigated"))["url"].endswith("/login.html")
    assert socket.until(lambda s: len(s.frames) > before)
    assert all("secret-typed" not in str(event) for event in socket.events)
    socket.close()


def test_two_watchers_get_two_sizes_and_the_screencast_stops_with_the_last(api, live, site, owner):
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/spa.html")
    focused = console_socket(live, f"/ws/sessions/{session}/", owner)
    thumbnail = console_socket(live, f"/ws/sessions/{session}/?rate=thumbnail", owner)
    big = focused.until(lambda s: s.frames and s.frames[-1])
    small = thumbnail.until(lambda s: s.frames and s.frames[-1])
    assert big.size[0] == 1280
    assert small.size[0] <= 320  # scaled by Chromium, not by us
    assert feeds(live, session)["thumb"] == (1, True)
    thumbnail.close()
    assert wait_until(lambda: feeds(live, session)["thumb"] == (0, False), timeout=5)
    focused.close()
    assert wait_until(lambda: feeds(live, session)["full"][0] <= 1, timeout=5)


def test_frames_follow_a_new_tab_without_reconnecting(api, live, site, owner):
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    socket = console_socket(live, f"/ws/sessions/{session}/", owner)
    first = socket.until(lambda s: s.frames and s.frames[-1])
    opened = api.post(
        f"/sessions/{session}/page/execute",
        json={"type": "goto_new_tab", "url": f"{site.url}/article.html"},
    ).json()
    assert opened["success"]
    tabs = socket.until(lambda s: (e := s.event("tabs.changed")) and len(e["tabs"]) == 2 and e)
    assert [t["active"] for t in tabs["tabs"]] == [False, True]
    later = socket.until(lambda s: s.frames and s.frames[-1].jpeg != first.jpeg and s.frames[-1])
    assert later, "frames of the new tab arrive on the same socket"
    socket.close()


def test_a_slow_watcher_does_not_delay_a_fast_one(api, live, site, owner):
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/spa.html")
    from tests.sessions_app.helpers import in_page

    # An animating page: the screencast sends frames continuously.
    in_page(
        live,
        session,
        "setInterval(() => { document.body.style.background = "
        "`hsl(${Date.now() % 360}, 60%, 60%)` }, 16)",
    )
    slow = console_socket(live, f"/ws/sessions/{session}/", owner, read=False)  # never reads
    fast = console_socket(live, f"/ws/sessions/{session}/", owner)
    fast.pump(4.0)
    assert len(fast.frames) >= 20
    gaps = [
        b.captured_at_ms - a.captured_at_ms
        for a, b in zip(fast.frames, fast.frames[1:], strict=False)
    ]
    assert max(gaps[len(gaps) // 2 :]) < 1000  # still steady at the end, whatever the slow one does
    slow.close()
    fast.close()


def test_sockets_refuse_no_login_another_team_a_bad_origin_and_unknown_ids(
    api, live, owner, django_user_model
):
    from teams_app.services import team_create

    session = start(api)["session_id"]
    outsider = django_user_model.objects.create_user(
        username="mallory", password="mallory-pass-123"
    )
    team_create(name="Elsewhere", owner=outsider)
    attempts = [
        (f"/ws/sessions/{session}/", None, ""),  # no login
        (f"/ws/sessions/{session}/", outsider, ""),  # another team's member
        (f"/ws/sessions/{session}/", owner, "https://evil.example"),  # a foreign page
        (f"/ws/sessions/{session}/", owner, None),  # no Origin from a console socket
        ("/ws/sessions/00000000-0000-4000-8000-000000000000/", owner, ""),  # unknown
        ("/ws/sessions/not-a-uuid/", owner, ""),
    ]
    for path, user, origin in attempts:
        with pytest.raises(InvalidStatus) as refused:
            console_socket(live, path, user, origin=origin)
        assert refused.value.response.status_code == 403, (path, user, origin)


def test_a_viewer_watches_but_input_from_anyone_without_control_goes_nowhere(
    api, live, site, team, owner, django_user_model
):
    from teams_app.models import Membership, Role
    from tests.sessions_app.helpers import in_page

    viewer = django_user_model.objects.create_user(username="victor", password="victor-pass-123")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    watching = console_socket(live, f"/ws/sessions/{session}/", viewer)
    assert watching.until(lambda s: s.event("hello"))["can_control"] is False
    watching.send({"type": "input", "event": {"kind": "text", "text": "viewer was here"}})
    assert "Take control" in watching.until(lambda s: s.event("error"))["message"]
    owners = console_socket(live, f"/ws/sessions/{session}/", owner)  # a member without the lease
    owners.until(lambda s: s.event("hello"))
    in_page(live, session, "document.querySelector('#email').focus()")
    owners.send({"type": "input", "event": {"kind": "text", "text": "no lease"}})
    owners.until(lambda s: s.event("error"))
    assert in_page(live, session, "document.querySelector('#email').value") == ""
    watching.close()
    owners.close()


def control(live, user, session: str, action: str):
    return console_http(live, user).post(
        live.url + reverse("sessions_app:control", args=[session, action]), timeout=30
    )


def test_the_control_lease_lets_its_holder_type_and_holds_the_api_back(api, live, site, owner):
    from sessions_app.models import SessionControl, SessionEvent
    from teams_app.models import AuditEvent
    from tests.sessions_app.helpers import in_page

    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    socket = console_socket(live, f"/ws/sessions/{session}/", owner)
    socket.until(lambda s: s.event("hello"))
    taken = control(live, owner, session, "take")
    assert taken.status_code == 200 and taken.json()["you_hold_control"]
    assert socket.until(lambda s: s.event("control.changed"))["holder"] == "alice"

    box = api.post(f"/sessions/{session}/page/observe", json={}).json()["screenshot"]["bboxes"]
    email = next(b for b in box if b["notte_id"] == "I1")
    x = (email["x"] + email["width"] / 2) / 1280
    y = (email["y"] + email["height"] / 2) / 1080
    socket.send(
        {
            "type": "input",
            "event": {"kind": "mouse", "action": "down", "x": x, "y": y, "button": "left"},
        }
    )
    socket.send(
        {
            "type": "input",
            "event": {"kind": "mouse", "action": "up", "x": x, "y": y, "button": "left"},
        }
    )
    socket.send({"type": "input", "event": {"kind": "text", "text": "typed@by.hand"}})
    assert wait_until(
        lambda: in_page(live, session, "document.querySelector('#email').value") == "typed@by.hand"
    )

    blocked = api.post(
        f"/sessions/{session}/page/execute", json={"type": "goto", "url": f"{site.url}/"}
    )
    assert blocked.status_code == 409 and "alice" in blocked.json()["message"]
    assert (
        api.post(f"/sessions/{session}/page/observe", json={}).status_code == 200
    )  # reading still works

    socket.close()  # a reload: the lease belongs to the person, not the socket
    again = console_socket(live, f"/ws/sessions/{session}/", owner)
    assert again.until(lambda s: s.event("hello"))["you_hold_control"] is True
    assert control(live, owner, session, "release").status_code == 200
    assert again.until(lambda s: (e := s.event("control.changed")) and e["holder"] is None and e)
    assert api.post(
        f"/sessions/{session}/page/execute", json={"type": "goto", "url": f"{site.url}/"}
    ).json()["success"]
    assert not SessionControl.objects.filter(session_id=session).exists()
    reasons = list(SessionEvent.objects.filter(session_id=session).values_list("reason", flat=True))
    assert "control taken by alice" in reasons and "control released by alice" in reasons
    assert AuditEvent.objects.filter(action="session.control_taken").count() == 1
    again.close()


def test_a_lease_without_input_expires(api, live, site, owner, settings):
    from sessions_app.models import SessionControl

    session = start(api)["session_id"]
    assert control(live, owner, session, "take").status_code == 200
    live.clock.offset = settings.PERISCOPE_CONTROL_LEASE_SECONDS + 1
    assert wait_until(
        lambda: not SessionControl.objects.filter(session_id=session).exists(), timeout=5
    )
    assert api.post(
        f"/sessions/{session}/page/execute", json={"type": "wait", "time_ms": 1}
    ).json()["success"]


def test_the_notte_recording_socket_streams_images_pillow_opens(
    api, live, site, api_key, other_team_key
):
    from websockets.sync.client import connect

    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/article.html")
    debug = api.get(f"/sessions/{session}/debug").json()
    with connect(
        f"{debug['ws']['recording']}?token={api_key}", open_timeout=15
    ) as ws:  # no Origin header
        image = Image.open(io.BytesIO(ws.recv(timeout=10)))
        assert image.format == "JPEG" and image.size[0] == 1280
    with connect(f"{debug['ws']['logs']}?token={api_key}", open_timeout=15) as logs:
        goto(api, session, f"{site.url}/login.html")
        deadline = time.monotonic() + 10
        kinds = set()
        while time.monotonic() < deadline and "step.finished" not in kinds:
            import json

            kinds.add(json.loads(logs.recv(timeout=10))["type"])
        assert "step.finished" in kinds
    for token in ("", "nk_nope.nope", other_team_key):
        with pytest.raises(InvalidStatus):
            connect(f"{debug['ws']['recording']}?token={token}", open_timeout=15)


def test_viewer_url_opens_one_session_live_and_stops_with_it(api, live, site, owner, settings):
    import requests

    session = start(api)["session_id"]
    other = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    viewer_url = api.get(f"/sessions/{session}").json()["viewer_url"]
    page = requests.get(viewer_url, timeout=30)
    assert page.status_code == 200 and 'class="live-screen"' in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    settings.PERISCOPE_VIEWER_FRAME_ANCESTORS = ["https://app.example.com"]
    embeddable = requests.get(viewer_url, timeout=30).headers["Content-Security-Policy"]
    assert "frame-ancestors https://app.example.com" in embeddable
    token = viewer_url.rstrip("/").rsplit("/", 1)[1]
    socket = console_socket(live, f"/ws/viewer/{token}/")  # no login: the link is the credential
    assert socket.until(lambda s: s.frames)[0].session_id == session
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    with pytest.raises(InvalidStatus):
        console_socket(live, f"/ws/viewer/{forged}/")
    api.delete(f"/sessions/{session}/stop")
    assert socket.until(lambda s: s.event("status.changed", status="closed"))
    assert requests.get(viewer_url, timeout=30).status_code == 404
    assert other  # the other session was never reachable through this link
    socket.close()


def test_hello_comes_first_and_a_client_that_leaves_at_once_leaves_no_watcher(
    api, live, site, owner
):
    import json

    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/spa.html")
    viewer_token = (
        api.get(f"/sessions/{session}").json()["viewer_url"].rstrip("/").rsplit("/", 1)[1]
    )
    for path in (f"/ws/sessions/{session}/?rate=thumbnail", f"/ws/viewer/{viewer_token}/"):
        socket = console_socket(live, path, owner, read=False)
        first = socket.ws.recv(timeout=10)
        assert isinstance(first, str) and json.loads(first)["type"] == "hello", path
        socket.close()
    # Gone before the server finished greeting: its send fails, and its watcher must go anyway
    # (it used to stay, renewed for ever, and kept the screencast running).
    for _ in range(3):
        console_socket(live, f"/ws/sessions/{session}/?rate=thumbnail", owner, read=False).close()
    assert wait_until(lambda: feeds(live, session)["thumb"] == (0, False), timeout=5)
    assert wait_until(lambda: live.call(lambda: _watchers(live, session)) == 0, timeout=5)


async def _watchers(live, session_id):
    return live.worker.live.watcher_count(session_id)
