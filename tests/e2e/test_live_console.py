"""The live console in a real Chromium, against the live ASGI server, its worker and the test site:
watching a session's pixels, taking control and typing into the page through the canvas, the
sessions list's live thumbnails, the replay and step scrubber after the end, and viewer links."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.sessions_app.helpers import in_page, start

pytestmark = pytest.mark.e2e

# Distinct colours among sampled pixels of a canvas: a blank or single-colour canvas has one.
CANVAS_COLOURS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const seen = new Set();
  for (let i = 0; i < data.length; i += 4 * 31) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  return seen.size;
}"""

CANVAS_DIGEST = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let hash = 0;
  for (let i = 0; i < data.length; i += 7) hash = (hash * 31 + data[i]) | 0;
  return hash;
}"""


def goto(api, session: str, url: str) -> None:
    result = api.post(f"/sessions/{session}/page/execute", json={"type": "goto", "url": url}).json()
    assert result["success"], result


def expect_pixels(canvas_owner, canvas) -> None:
    """Frames were painted (the live view counts them) and the canvas shows a page, not a blank."""
    expect(canvas_owner).to_have_attribute("data-frames", re.compile(r"^[1-9]"))
    canvas.page.wait_for_function(
        f"(canvas) => ({CANVAS_COLOURS})(canvas) > 8", arg=canvas.element_handle(), timeout=15_000
    )


def click_through_canvas(page: Page, live, session: str, selector: str) -> None:
    """Click the centre of an element of the session's page, by clicking where it shows on the
    canvas (the page's layout comes from the page itself, through the worker)."""
    rect = json.loads(
        in_page(
            live,
            session,
            f"""JSON.stringify((() => {{
        const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
        return {{x: (r.left + r.width / 2) / innerWidth, y: (r.top + r.height / 2) / innerHeight}};
    }})())""",
        )
    )
    screen = page.locator(".live-screen")
    screen.scroll_into_view_if_needed()
    box = screen.bounding_box()
    page.mouse.click(box["x"] + rect["x"] * box["width"], box["y"] + rect["y"] * box["height"])


def scraped(api, session: str) -> str:
    response = api.post(f"/sessions/{session}/page/scrape", json={"only_main_content": False})
    if response.status_code == 500 and "Execution context was destroyed" in response.text:
        return ""  # the page was navigating (our click): the next try reads the new page
    assert response.status_code == 200, response.text
    return response.json()["markdown"]


def wait_for_text(api, session: str, text: str, page: Page, tries: int = 50) -> str:
    for _ in range(tries):
        markdown = scraped(api, session)
        if text in markdown:
            return markdown
        page.wait_for_timeout(200)
    raise AssertionError(f"{text!r} never showed in the page: {markdown[:500]}")


def test_alice_watches_takes_control_types_into_the_page_and_hands_it_back(
    page: Page, live, site, owner, team, api, login
):
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    login(page)
    page.goto(f"{live.url}/sessions/{session}/")
    view = page.locator(".live-card")
    canvas = view.locator(".live-screen")
    expect(view.locator("[data-live=state]")).to_have_text("Live")
    expect_pixels(view, canvas)
    expect(view.locator("[data-live=metrics]")).to_contain_text(
        re.compile(r"frame age \d+ ms · \d+ fps")
    )
    expect(page.get_by_label("Address")).to_have_value(f"{site.url}/login.html")
    expect(view.locator(".live-tab.is-active")).to_be_visible()
    page.evaluate("window.__noReload = true")

    # Watching only: a click on the page relays nothing and the view says what to do.
    click_through_canvas(page, live, session, "#forgot")
    expect(view.locator("[data-live=note]")).to_contain_text("Take control first")
    expect(page.get_by_role("button", name="Back")).to_be_disabled()

    page.get_by_role("button", name="Take control").click()
    expect(page.get_by_role("button", name="Release control")).to_be_visible()
    expect(view.locator("[data-live=holder]")).to_contain_text("You have control since")
    expect(page.get_by_role("button", name="Take control")).to_be_hidden()
    blocked = api.post(
        f"/sessions/{session}/page/execute", json={"type": "goto", "url": f"{site.url}/"}
    )
    assert blocked.status_code == 409 and "alice" in blocked.json()["message"]

    # Through the canvas: the login form's "Forgot password?" link, then its email field.
    click_through_canvas(page, live, session, "#forgot")
    expect(page.get_by_label("Address")).to_have_value(f"{site.url}/forgot-password.html")
    wait_for_text(api, session, "Reset your password", page)
    click_through_canvas(page, live, session, "#reset-email")
    expect(canvas).to_be_focused()
    before = canvas.evaluate(CANVAS_DIGEST)
    page.keyboard.type(
        "typed@"
    )  # keys, then a paste, then the text field the toolbar offers phones
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("navigator.clipboard.writeText('by.')")
    page.keyboard.press("Control+V")
    page.get_by_label("Type or paste into the page").fill("hand")
    page.get_by_role("button", name="Send").click()
    click_through_canvas(page, live, session, "#reset-email")
    page.keyboard.press("Enter")
    assert "Reset link sent to typed@by.hand" in wait_for_text(
        api, session, "Reset link sent", page
    )
    # ...and the person typing sees it: the canvas shows the page as it is now.
    page.wait_for_function(
        f"([canvas, before]) => ({CANVAS_DIGEST})(canvas) !== before",
        arg=[canvas.element_handle(), before],
        timeout=10_000,
    )

    # The toolbar drives the page too, and the timeline shows who took control, without a reload.
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Address")).to_have_value(f"{site.url}/login.html")
    wait_for_text(api, session, "Forgot password?", page)
    expect(page.locator(".timeline")).to_contain_text("control taken by alice")
    assert page.evaluate("window.__noReload === true")

    page.reload()  # the lease belongs to alice, not to the page
    expect(page.get_by_role("button", name="Release control")).to_be_visible()
    expect(page.locator("[data-live=holder]")).to_contain_text("You have control")
    page.get_by_role("button", name="Release control").click()
    expect(page.get_by_role("button", name="Take control")).to_be_visible()
    expect(page.locator("[data-live=holder]")).to_have_text("Nobody has control")

    page.evaluate("window.__noReload = true")
    goto(api, session, f"{site.url}/article.html")  # the API acts again, and the step shows up live
    expect(page.locator(".steps .step").last).to_contain_text("article.html")
    expect(page.get_by_label("Address")).to_have_value(f"{site.url}/article.html")
    assert page.evaluate("window.__noReload === true")


def test_the_list_shows_live_thumbnails_and_status_changes_without_polling(
    page: Page, live, site, owner, team, api, login
):
    first = start(api)["session_id"]
    goto(api, first, f"{site.url}/login.html")
    login(page)
    page.evaluate("window.__noReload = true")
    tile = page.locator(f'.thumb[data-session-id="{first}"]')
    expect_pixels(tile, tile.locator("canvas"))
    expect(page.locator(".live-grid [data-live=state]")).to_have_text("Live")

    table_requests = []
    page.on(
        "request",
        lambda request: "fragment=table" in request.url and table_requests.append(request.url),
    )
    page.wait_for_timeout(3000)
    assert table_requests == [], "the table does not poll while the socket is up"

    second = start(api)["session_id"]  # started elsewhere: a thumbnail and a row appear
    expect(page.locator(f"#session-{second}")).to_contain_text("Active")
    goto(api, second, f"{site.url}/article.html")
    later = page.locator(f'.thumb[data-session-id="{second}"]')
    expect_pixels(later, later.locator("canvas"))

    api.delete(f"/sessions/{first}/stop")
    expect(page.locator(f"#session-{first}")).to_contain_text("Closed")
    expect(tile).to_have_count(0)
    expect(page.locator(".live-grid [data-live=count]")).to_have_text("1")
    assert page.evaluate("window.__noReload === true")

    later.locator("a").click()
    expect(page).to_have_url(f"{live.url}/sessions/{second}/")
    expect(page.locator(".live-card [data-live=state]")).to_have_text("Live")


def test_after_the_end_the_page_shows_the_replay_and_a_scrubber_over_the_steps(
    page: Page, live, site, owner, team, api, login
):
    session = start(api)["session_id"]
    login(page)
    page.goto(f"{live.url}/sessions/{session}/")
    expect(page.locator(".live-card [data-live=state]")).to_have_text("Live")
    page.evaluate("window.__noReload = true")
    goto(api, session, f"{site.url}/login.html")
    goto(api, session, f"{site.url}/article.html")
    api.post(
        f"/sessions/{session}/page/execute", json={"type": "click", "id": "B1"}
    )  # fails: no observe yet
    steps = page.locator(".steps .step")
    expect(steps).to_have_count(3)  # each arrived while watching
    expect(steps.nth(2)).to_contain_text("failed")

    api.delete(f"/sessions/{session}/stop")
    expect(page.get_by_role("heading", name=re.compile(r"^Session "))).to_contain_text("Closed")
    expect(page.locator(".live-card")).to_have_count(0)
    replay = page.locator("img.replay-media, video.replay-media")
    expect(replay).to_be_visible(timeout=30_000)
    assert page.evaluate("window.__noReload === true")
    src = replay.get_attribute("src")
    assert page.request.get(live.url + src).status == 200

    scrubber = page.locator("[data-scrubber]")
    image = scrubber.locator("[data-scrubber-image]")
    expect(image).to_have_attribute("src", f"/sessions/{session}/steps/1/screenshot/")
    expect(scrubber.locator("[data-scrubber-step]:visible")).to_contain_text("goto")
    expect(scrubber.locator("[data-scrubber-step]:visible")).to_contain_text("login.html")
    scrubber.get_by_label(re.compile(r"^Step \d+ of 3")).focus()
    page.keyboard.press("ArrowRight")
    expect(image).to_have_attribute("src", f"/sessions/{session}/steps/2/screenshot/")
    expect(scrubber.locator("[data-scrubber-step]:visible")).to_contain_text("article.html")
    page.keyboard.press("End")
    expect(image).to_have_attribute("src", f"/sessions/{session}/steps/3/screenshot/")
    expect(scrubber.locator("[data-scrubber-step]:visible")).to_contain_text("failed")
    assert page.evaluate("document.querySelector('[data-scrubber-image]').naturalWidth") > 0

    # A step's thumbnail opens its screenshot at full size.
    page.locator(".steps .step").first.get_by_role(
        "button", name="Enlarge the screenshot of step 1"
    ).click()
    dialog = page.locator("#shot-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Step 1 · goto")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_a_viewer_link_shows_the_pixels_without_a_login_and_can_take_control(
    page: Page, live, site, owner, team, api
):
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    viewer_url = api.get(f"/sessions/{session}").json()["viewer_url"]
    page.goto(viewer_url)  # this browser never signed in
    view = page.locator(".viewer")
    expect(view.locator("[data-live=state]")).to_have_text("Live")
    expect_pixels(view, view.locator(".live-screen"))

    page.get_by_role("button", name="Take control").click()
    expect(page.get_by_role("button", name="Release control")).to_be_visible()
    blocked = api.post(
        f"/sessions/{session}/page/execute", json={"type": "goto", "url": f"{site.url}/"}
    )
    assert blocked.status_code == 409
    page.get_by_role("button", name="Release control").click()
    expect(page.get_by_role("button", name="Take control")).to_be_visible()

    api.delete(f"/sessions/{session}/stop")
    expect(view.locator("[data-live=state]")).to_have_text("Session ended")


def test_a_viewer_watches_but_has_no_working_take_control(
    page: Page, live, site, owner, team, api, viewer, login
):
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    login(page, "victor", "pass-for-e2e-123")
    page.goto(f"{live.url}/sessions/{session}/")
    view = page.locator(".live-card")
    expect(view.locator("[data-live=state]")).to_have_text("Live")
    expect_pixels(view, view.locator(".live-screen"))
    expect(view.locator("[data-live=note]")).to_contain_text("viewers cannot take control")
    expect(page.get_by_role("button", name="Take control")).to_have_count(0)
    expect(page.get_by_label("Address")).to_be_disabled()

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forced = page.request.post(
        f"{live.url}/sessions/{session}/control/take/",
        headers={"X-CSRFToken": csrf, "Referer": page.url},
    )
    assert forced.status == 403
    assert (
        api.post(
            f"/sessions/{session}/page/execute", json={"type": "goto", "url": f"{site.url}/"}
        ).status_code
        == 200
    )


def test_a_dropped_socket_reconnects_by_itself_and_the_page_catches_up(
    page: Page, live, site, owner, team, api, login
):
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    sockets = []

    def through(ws):  # the real socket, with a handle to cut it as a proxy restart would
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(rf"/ws/sessions/{session}/$"), through)
    login(page)
    page.goto(f"{live.url}/sessions/{session}/")
    state = page.locator(".live-card [data-live=state]")
    expect(state).to_have_text("Live")
    expect(page.locator(".steps .step")).to_have_count(1)

    sockets[0].close(code=1012)
    expect(state).to_have_text("Reconnecting")
    expect(page.locator(".live-card [data-live=countdown]")).to_have_text(re.compile(r"^in \d+ s$"))
    goto(api, session, f"{site.url}/article.html")  # happens while the page is not listening
    expect(state).to_have_text("Live")
    assert len(sockets) == 2
    expect(page.locator(".steps .step")).to_have_count(2)  # fetched after reconnecting
    expect(page.get_by_label("Address")).to_have_value(f"{site.url}/article.html")


def test_an_owner_takes_control_over_from_a_member(
    browser, live, site, owner, team, api, login, django_user_model
):
    from teams_app.models import Membership, Role

    bob = django_user_model.objects.create_user(username="bob", password="bob-pass-123")
    Membership.objects.create(team=team, user=bob, role=Role.MEMBER)
    session = start(api)["session_id"]
    goto(api, session, f"{site.url}/login.html")
    pages = {}
    for name in ("bob", "alice"):
        pages[name] = browser.new_context().new_page()
        login(pages[name], name, f"{name}-pass-123")
        pages[name].goto(f"{live.url}/sessions/{session}/")
        expect(pages[name].locator(".live-card [data-live=state]")).to_have_text("Live")
    bobs, alices = pages["bob"], pages["alice"]

    expect(bobs.get_by_role("button", name="Take over")).to_have_count(0)  # members cannot
    bobs.get_by_role("button", name="Take control").click()
    expect(bobs.locator("[data-live=holder]")).to_contain_text("You have control")
    expect(alices.locator("[data-live=holder]")).to_contain_text("bob has control since")
    expect(alices.get_by_role("button", name="Take control")).to_be_hidden()
    expect(alices.locator("[data-live=note]")).to_contain_text("You can take it over")

    alices.get_by_role("button", name="Take over").click()
    expect(alices.locator("[data-live=holder]")).to_contain_text("You have control")
    expect(bobs.locator("[data-live=holder]")).to_contain_text("alice has control")
    expect(bobs.locator("[data-live=note]")).to_contain_text("Control taken over by alice from bob")
    expect(bobs.get_by_label("Address")).to_be_disabled()
    for each in pages.values():
        each.context.close()
