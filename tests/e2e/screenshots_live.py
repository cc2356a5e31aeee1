"""Screenshots of the live console for a design review, not a test (the suite does not collect it):

    .venv/bin/pytest tests/e2e/screenshots_live.py    # PNGs go to $PERISCOPE_SCREENSHOTS or /tmp/shots

The session page while live (watching, then with control taken), after it ended (replay and
step scrubber), the sessions list with live thumbnails, and a viewer link's page; at 1280x800 and
390x844, light and dark.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.sessions_app.helpers import start

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("PERISCOPE_SCREENSHOTS", "/tmp/shots")
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def execute(api, session: str, **action) -> None:
    api.post(f"/sessions/{session}/page/execute", json=action)


def test_live_screenshots(browser, live, site, owner, team, api):
    watched = start(api)["session_id"]
    execute(api, watched, type="goto", url=f"{site.url}/login.html")
    api.post(f"/sessions/{watched}/page/observe", json={})
    execute(api, watched, type="fill", id="I1", value="someone@example.com")
    execute(api, watched, type="goto_new_tab", url=f"{site.url}/article.html")
    execute(api, watched, type="switch_tab", tab_index=0)
    other = start(api, viewport_width=390, viewport_height=844)["session_id"]
    execute(api, other, type="goto", url=f"{site.url}/spa.html")
    ended = start(api)["session_id"]
    for path in ("index.html", "login.html", "article.html", "forms.html"):
        execute(api, ended, type="goto", url=f"{site.url}/{path}")
    execute(api, ended, type="click", id="B1")  # no observe yet: a failed step
    api.delete(f"/sessions/{ended}/stop")
    viewer_url = api.get(f"/sessions/{watched}").json()["viewer_url"]

    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for size_name, size in SIZES.items():
            context = browser.new_context(viewport=size, color_scheme=scheme)
            page = context.new_page()
            prefix = f"{size_name}-{scheme}"
            page.goto(f"{live.url}/login/")
            page.get_by_label("Username").fill("alice")
            page.get_by_label("Password").fill("alice-pass-123")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/sessions/")
            for session in (watched, other):
                tile = page.locator(f'.thumb[data-session-id="{session}"]')
                expect(tile).to_have_attribute("data-frames", re.compile(r"^[1-9]"))
            page.screenshot(path=out / f"{prefix}-live-list.png", full_page=True)

            page.goto(f"{live.url}/sessions/{watched}/")
            expect(page.locator(".live-card")).to_have_attribute(
                "data-frames", re.compile(r"^[1-9]")
            )
            expect(page.get_by_role("button", name="Take control")).to_be_visible()
            page.wait_for_timeout(600)
            page.screenshot(path=out / f"{prefix}-live-watching.png")
            page.screenshot(path=out / f"{prefix}-live-watching-full.png", full_page=True)
            page.get_by_role("button", name="Take control").click()
            expect(page.get_by_role("button", name="Release control")).to_be_visible()
            page.locator(".live-screen").focus()
            page.wait_for_timeout(300)
            page.screenshot(path=out / f"{prefix}-live-control.png")
            page.get_by_role("button", name="Release control").click()
            expect(page.get_by_role("button", name="Take control")).to_be_visible()

            page.goto(f"{live.url}/sessions/{ended}/")
            expect(page.locator(".replay-media")).to_be_visible(timeout=30_000)
            page.locator("[data-scrubber-range]").focus()
            page.keyboard.press("ArrowRight")
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(300)
            page.screenshot(path=out / f"{prefix}-ended.png", full_page=True)
            page.locator("[data-scrubber-open]").click()
            page.wait_for_timeout(300)
            page.screenshot(path=out / f"{prefix}-ended-dialog.png")
            context.close()

            anonymous = browser.new_context(viewport=size, color_scheme=scheme)
            viewer = anonymous.new_page()
            viewer.goto(viewer_url)
            expect(viewer.locator(".viewer")).to_have_attribute(
                "data-frames", re.compile(r"^[1-9]")
            )
            expect(viewer.get_by_role("button", name="Take control")).to_be_visible()
            viewer.wait_for_timeout(300)
            viewer.screenshot(path=out / f"{prefix}-viewer.png")
            anonymous.close()
