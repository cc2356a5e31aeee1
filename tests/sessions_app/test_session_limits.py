"""What one session may use: its network bytes are counted, its tabs and downloads are capped."""

import pytest

from tests.support.site import SITE_DIR

from .helpers import start, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def act(api, sid, **action):
    response = api.post(f"/sessions/{sid}/page/execute", json=action)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_bytes_of_a_page_load_show_up_in_the_session_status(api, site):
    sid = start(api)["session_id"]
    status = api.get(f"/sessions/{sid}").json()
    assert (status["network_request_bytes"], status["network_response_bytes"]) == (0, 0)

    assert act(api, sid, type="goto", url=f"{site.url}/article.html")["success"]
    article = (SITE_DIR / "article.html").stat().st_size
    status = api.get(f"/sessions/{sid}").json()
    assert status["network_response_bytes"] > article
    assert status["network_request_bytes"] > 0

    stopped = api.delete(f"/sessions/{sid}/stop").json()
    assert stopped["network_response_bytes"] >= status["network_response_bytes"]
    # and they stay on the closed session's row
    assert (
        api.get(f"/sessions/{sid}").json()["network_response_bytes"]
        == stopped["network_response_bytes"]
    )


# -- tabs ------------------------------------------------------------------------------------------
# The worker reads its limits when it starts: fixtures that change them come before `api`.


@pytest.fixture
def three_tabs(settings):
    settings.PERISCOPE_MAX_TABS_PER_SESSION = 3


@pytest.fixture
def two_tabs(settings):
    settings.PERISCOPE_MAX_TABS_PER_SESSION = 2


def observed_tabs(api, sid):
    response = api.post(f"/sessions/{sid}/page/observe", json={})
    assert response.status_code == 200, response.text
    return response.json()["metadata"]["tabs"]


def open_pages(live, sid) -> int:
    async def count():
        return len(live.worker.pool.get(sid).context.pages)

    return live.call(count)


def test_goto_new_tab_stops_at_the_tab_cap(three_tabs, api, site, live):
    sid = start(api)["session_id"]
    for _ in range(2):
        assert act(api, sid, type="goto_new_tab", url=f"{site.url}/article.html")["success"]
    refused = act(api, sid, type="goto_new_tab", url=f"{site.url}/article.html")
    assert refused["success"] is False
    assert "3 tabs" in refused["message"] and "close_tab" in refused["message"]
    assert len(observed_tabs(api, sid)) == 3
    assert open_pages(live, sid) == 3


def test_a_refused_url_closes_the_tab_it_opened(api, site, live):
    from tests.support.site import Target

    sid = start(api)["session_id"]
    assert act(api, sid, type="goto", url=f"{site.url}/login.html")["success"]
    with Target("127.0.0.2") as target:
        refused = act(api, sid, type="goto_new_tab", url=f"{target.url}/secret")
        assert refused["success"] is False
        assert target.hits == []
    assert [t["url"] for t in observed_tabs(api, sid)] == [f"{site.url}/login.html"]
    assert open_pages(live, sid) == 1


def test_popups_count_against_the_cap_and_the_step_says_so(two_tabs, api, site, live):
    sid = start(api)["session_id"]
    assert act(api, sid, type="goto", url=f"{site.url}/popup.html")["success"]
    opened = act(api, sid, type="click", selector="#open-popup")
    assert opened["success"] and "closed" not in opened["message"]
    assert wait_until(lambda: open_pages(live, sid) == 2, timeout=5)

    over = act(api, sid, type="click", selector="#new-tab")
    assert over["success"]
    assert wait_until(lambda: refused_tabs(live, sid) == 1, timeout=5)
    assert wait_until(lambda: open_pages(live, sid) == 2, timeout=5)  # closed at once
    # The popup appears up to ~100 ms after the click answers: the note goes with the click's
    # answer, else with its step, else with the next action.
    step = api.get(f"/sessions/{sid}").json()["steps"][-1]
    assert step["action"]["selector"] == "#new-tab"
    following = act(api, sid, type="scroll_down")
    note = "closed a new tab"
    if note in over["message"]:
        assert note in step["message"]  # the step records what the click answered
    on_click = note in step["message"]
    on_next = note in following["message"]
    assert on_click != on_next  # told once: with the click, or else with the next action
    assert "at most 2 tabs" in (step["message"] if on_click else following["message"])
    assert len(observed_tabs(api, sid)) == 2
    # no action involved: a script's popup over the cap is closed all the same
    refused = refused_tabs(live, sid)
    live.call(lambda: live.worker.pool.get(sid).page.evaluate("window.open('/article.html')"))
    assert wait_until(lambda: refused_tabs(live, sid) == refused + 1, timeout=5)
    assert wait_until(lambda: open_pages(live, sid) == 2, timeout=5)


def refused_tabs(live, sid) -> int:
    async def count():
        return live.worker.pool.get(sid).tabs_refused

    return live.call(count)


# -- downloads -------------------------------------------------------------------------------------

MB = 1024 * 1024


@pytest.fixture
def small_downloads(settings):
    settings.PERISCOPE_MAX_DOWNLOAD_BYTES = 2 * MB
    settings.PERISCOPE_MAX_SESSION_DOWNLOAD_BYTES = 5 * MB


def session_files(live, sid) -> dict[str, int]:
    async def listing():
        folder = live.worker.pool.get(sid).files("downloads")
        return {p.name: p.stat().st_size for p in folder.iterdir()}

    return live.call(listing)


def browser_download_bytes(live) -> int:
    """Bytes in the folder Chromium writes downloads to (partial files included)."""
    folder = live.worker.pool.downloads_dir
    return sum(p.stat().st_size for p in folder.iterdir()) if folder.exists() else 0


def test_a_download_over_the_cap_is_stopped_while_it_is_written(small_downloads, api, site, live):
    site.sent.clear()
    sid = start(api)["session_id"]
    url = f"{site.url}/download/big?bytes={40 * MB}&name=huge.bin"
    page = f"<a id=get href='{url}'>Get the file</a>"
    assert act(api, sid, type="goto", url=f"{site.url}/forms.html")["success"]
    live.call(lambda: live.worker.pool.get(sid).page.set_content(page))

    refused = act(api, sid, type="download_file", selector="#get")
    assert refused["success"] is False
    assert str(2 * MB) in refused["message"]
    assert site.sent["huge.bin"] < 20 * MB, "the download was not stopped while it was written"
    assert session_files(live, sid) == {}
    assert wait_until(lambda: browser_download_bytes(live) == 0, timeout=5)


def test_downloads_a_page_starts_on_its_own_count_against_the_session_total(
    small_downloads, api, site, live
):
    site.sent.clear()
    sid = start(api)["session_id"]
    size = int(1.5 * MB)
    assert act(api, sid, type="goto", url=f"{site.url}/download/auto?count=6&bytes={size}")[
        "success"
    ]

    assert wait_until(lambda: len(site.sent) == 6 and _settled(live, sid), timeout=15)
    kept = session_files(live, sid)
    assert 0 < len(kept) < 6
    assert sum(kept.values()) <= 5 * MB
    assert all(v == size for v in kept.values())
    assert wait_until(lambda: browser_download_bytes(live) == 0, timeout=5)
    # and an action's download is refused once the total is spent (how much of it the page's own
    # downloads left depends on how many raced each other, so top it up until it runs out)
    for attempt in range(3):
        page = f"<a id=get href='{site.url}/download/big?bytes={2 * MB}&amp;name=late{attempt}.bin'>late</a>"
        live.call(lambda page=page: live.worker.pool.get(sid).page.set_content(page))
        late = act(api, sid, type="download_file", selector="#get")
        if not late["success"]:
            break
    assert late["success"] is False and "total" in late["message"]
    assert sum(session_files(live, sid).values()) <= 5 * MB


def _settled(live, sid) -> bool:
    async def idle():
        return not live.worker.pool.get(sid).downloads.in_flight

    return live.call(idle)


@pytest.mark.parametrize("ending", ["stop", "idle timeout"])
def test_a_session_folder_is_deleted_when_the_session_ends(ending, api, site, live):
    sid = start(api, idle_timeout_minutes=1)["session_id"]
    url = f"{site.url}/download/big?bytes=1000&name=kept.bin"
    page = f"<a id=get href='{url}'>Get the file</a>"
    assert act(api, sid, type="goto", url=f"{site.url}/forms.html")["success"]
    live.call(lambda: live.worker.pool.get(sid).page.set_content(page))
    assert act(api, sid, type="download_file", selector="#get")["success"]
    assert session_files(live, sid) == {"kept.bin": 1000}
    folder = live.worker.pool.get(sid).files_dir
    assert folder.exists()

    if ending == "stop":
        assert api.delete(f"/sessions/{sid}/stop").json()["status"] == "closed"
    else:
        live.clock.offset = 61
    assert wait_until(lambda: not folder.exists(), timeout=5)
    assert sid not in live.worker.pool.session_ids()


# -- the perception screencast ----------------------------------------------------------------------


def full_screencast_running(live, sid) -> bool:
    async def running():
        session = live.worker.pool.get(sid)
        return session.frames is not None and session.frames.running

    return live.call(running)


def screenshot_of(observation: dict) -> bytes:
    import base64

    return base64.b64decode(observation["screenshot"]["raw"])


def test_an_observe_keeps_the_screencast_running_for_the_next_one(api, site, live):
    sid = start(api)["session_id"]
    assert act(api, sid, type="goto", url=f"{site.url}/login.html")["success"]
    observed = api.post(f"/sessions/{sid}/page/observe", json={}).json()
    assert screenshot_of(observed)[:2] == b"\xff\xd8"  # a JPEG
    assert full_screencast_running(live, sid)


@pytest.fixture
def no_perception_screencast(settings):
    settings.PERISCOPE_PERCEPTION_SCREENCAST_SECONDS = 0


def test_with_the_perception_screencast_off_observes_capture_instead(
    no_perception_screencast, api, site, live
):
    sid = start(api)["session_id"]
    assert act(api, sid, type="goto", url=f"{site.url}/login.html")["success"]
    first = api.post(f"/sessions/{sid}/page/observe", json={}).json()
    assert act(api, sid, type="fill", selector="#email", value="a@example.com")["success"]
    second = api.post(f"/sessions/{sid}/page/observe", json={}).json()
    assert not full_screencast_running(live, sid)
    # each observe captured the page as it was: the fill shows in the second picture only
    assert screenshot_of(first)[:2] == screenshot_of(second)[:2] == b"\xff\xd8"
    assert screenshot_of(first) != screenshot_of(second)
    # and the fill's step got its screenshot from a capture
    from sessions_app.models import Step

    fill = wait_until(lambda: Step.objects.filter(session_id=sid, index=2).first())
    assert fill is not None and fill.screenshot and fill.screenshot.size > 0
