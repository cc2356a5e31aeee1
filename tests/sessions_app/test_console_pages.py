"""The console's session pages as the server renders them: the live view's markup, the fragments
the live view refreshes, the replay and the step scrubber once a session ended, and the sessions
list's thumbnail grid. (The pages at work in a real browser: tests/e2e/test_live_console.py.)"""

import io
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from sessions_app import replays
from sessions_app.models import BrowserSession, ReplayStatus, SessionControl, SessionStatus, Step
from teams_app.models import Membership, Role
from teams_app.services import team_create

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="alice-pass-123")


@pytest.fixture
def team(alice):
    return team_create(name="Acme", owner=alice)


@pytest.fixture
def browser(client, alice, team):
    client.force_login(alice)
    return client


def new_session(team, status=SessionStatus.ACTIVE, **fields) -> BrowserSession:
    return BrowserSession.objects.create(
        team=team, status=status, viewport_width=1280, viewport_height=720, **fields
    )


def add_step(session, index: int, *, success=True, screenshot=True, action=None) -> Step:
    step = Step(
        session=session,
        index=index,
        action=action or {"type": "goto", "url": f"http://site.test/{index}"},
        success=success,
        message="" if success else "element not found",
        url_after=f"http://site.test/{index}",
    )
    if screenshot:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 36), (index * 40 % 256, 90, 160)).save(buffer, format="JPEG")
        step.screenshot.save(
            f"{session.id}/{index:05d}.jpg", ContentFile(buffer.getvalue()), save=False
        )
    step.save()
    return step


def test_a_live_session_page_has_the_live_view_with_its_socket_and_controls(browser, team, alice):
    session = new_session(team)
    add_step(session, 1)
    html = browser.get(f"/sessions/{session.id}/").content.decode()
    assert f'data-live-socket="/ws/sessions/{session.id}/"' in html
    assert f'data-user-id="{alice.pk}"' in html
    assert (
        'data-control="take"' in html and 'data-control="takeover"' in html
    )  # alice owns the team
    assert f"/sessions/{session.id}/control/take/" in html
    assert 'class="live-screen"' in html and 'width="1280" height="720"' in html
    assert "/static/js/live.js" in html
    assert "every 2s" not in html  # nothing polls: the live view says when to refresh
    assert 'hx-trigger="live-changed from:body, live-ended from:body"' in html
    assert f"/sessions/{session.id}/steps/1/screenshot/" in html  # the step's thumbnail
    assert "data-scrubber" not in html  # no replay while it runs


def test_the_live_view_shows_who_holds_control_from_the_first_paint(
    browser, team, alice, django_user_model
):
    bob = django_user_model.objects.create_user(username="bob", password="bob-pass-123")
    session = new_session(team)
    since = timezone.now() - timedelta(minutes=2)
    SessionControl.objects.create(
        session=session, holder=bob, holder_label="bob", since=since, last_input_at=since
    )
    html = browser.get(f"/sessions/{session.id}/").content.decode()
    assert 'data-holder="bob"' in html and f'data-holder-since="{since.isoformat()}"' in html
    assert "bob has control" in html


def test_a_viewer_gets_the_live_view_without_any_control_button(client, team, django_user_model):
    victor = django_user_model.objects.create_user(username="victor", password="victor-pass-123")
    Membership.objects.create(team=team, user=victor, role=Role.VIEWER)
    client.force_login(victor)
    session = new_session(team)
    html = client.get(f"/sessions/{session.id}/").content.decode()
    assert "data-live-socket" in html
    assert "data-control=" not in html
    assert "Stop session" not in html


def test_the_body_fragment_carries_the_steps_and_the_header_out_of_band(browser, team):
    session = new_session(team)
    add_step(session, 1)
    add_step(session, 2, success=False, screenshot=False)
    response = browser.get(f"/sessions/{session.id}/?fragment=body", headers=HTMX)
    html = response.content.decode()
    assert "HX-Request" in response["Vary"]
    assert re.search(r'<div id="session-head"[^>]*hx-swap-oob="true"', html)
    assert "Stop session" in html and "element not found" in html
    assert html.count('class="step') >= 2 and 'id="step-2"' in html
    # The swap target's own element is not in its content, so swaps never nest it.
    assert (
        'id="session-body"' not in html
        and "data-live-socket" not in html
        and "Debug URLs" not in html
    )


def test_the_media_fragment_of_a_live_session_is_the_live_view_and_another_team_gets_404(
    browser, team, django_user_model
):
    session = new_session(team)
    html = browser.get(f"/sessions/{session.id}/?fragment=media", headers=HTMX).content.decode()
    assert html.lstrip().startswith('<div id="session-media"') and "data-live-socket" in html
    assert 'hx-trigger="live-ended from:body"' in html
    carol = django_user_model.objects.create_user(username="carol", password="carol-pass-123")
    elsewhere = new_session(team_create(name="Elsewhere", owner=carol))
    for fragment in ("media", "body"):
        assert (
            browser.get(f"/sessions/{elsewhere.id}/?fragment={fragment}", headers=HTMX).status_code
            == 404
        )


def test_an_ended_session_shows_its_replay_and_a_scrubber_over_the_step_screenshots(browser, team):
    session = new_session(team, status=SessionStatus.CLOSED, closed_at=timezone.now())
    for index in (1, 2, 3):
        add_step(session, index, action={"type": "click", "id": f"B{index}"})
    add_step(session, 4, screenshot=False)
    frames = replays.replay_build(session=session)
    BrowserSession.objects.filter(pk=session.pk).update(
        replay_status=ReplayStatus.READY, replay_frames=frames
    )
    html = browser.get(f"/sessions/{session.id}/").content.decode()
    assert "data-live-socket" not in html
    webp = re.search(r'<img class="replay-media" src="(/replays/[^"]+/)"', html)
    assert webp, "the replay is shown"
    replay = browser.get(webp.group(1))
    assert replay.status_code == 200 and replay["Content-Type"] == "image/webp"
    assert 'max="2"' in html  # three screenshots: positions 0..2
    captions = re.findall(
        r'<div class="scrubber-caption" data-scrubber-step\s+data-src="([^"]+)"', html
    )
    assert captions == [f"/sessions/{session.id}/steps/{i}/screenshot/" for i in (1, 2, 3)]
    assert "B2" in html and "/static/js/steps.js" in html


def test_the_replay_is_built_on_demand_and_the_page_waits_for_it(browser, team):
    session = new_session(
        team,
        status=SessionStatus.CLOSED,
        closed_at=timezone.now(),
        replay_status=ReplayStatus.BUILDING,
        replay_claimed_at=timezone.now(),
    )
    add_step(session, 1)
    html = browser.get(f"/sessions/{session.id}/?fragment=media", headers=HTMX).content.decode()
    assert "Building the replay" in html and 'hx-trigger="load delay:1500ms"' in html
    nothing = new_session(team, status=SessionStatus.CLOSED, closed_at=timezone.now())
    html = browser.get(f"/sessions/{nothing.id}/").content.decode()
    assert "nothing to replay" in html and 'hx-trigger="load' not in html


def test_the_sessions_list_has_a_thumbnail_per_live_session_and_a_table_fragment(browser, team):
    live = new_session(team)
    ended = new_session(team, status=SessionStatus.CLOSED, closed_at=timezone.now())
    html = browser.get("/sessions/").content.decode()
    assert 'data-live-socket="/ws/sessions/"' in html
    assert f'data-session-id="{live.id}"' in html and f'data-session-id="{ended.id}"' not in html
    assert 'width="320" height="180"' in html  # the thumbnail keeps the viewport's shape
    assert "every 2s" not in html
    table = browser.get("/sessions/?fragment=table", headers=HTMX).content.decode()
    assert f'id="session-{live.id}"' in table and f'id="session-{ended.id}"' in table
    assert 'id="session-table"' not in table and "data-live-socket" not in table
