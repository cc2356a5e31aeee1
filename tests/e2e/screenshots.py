"""Screenshots of the main pages for a design review, not a test (the suite does not collect it):

.venv/bin/pytest tests/e2e/screenshots.py    # PNGs go to $PERISCOPE_SCREENSHOTS or /tmp/shots
"""

import os
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("PERISCOPE_SCREENSHOTS", "/tmp/shots")
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def test_screenshots(browser, live, owner, team, api_key, django_user_model):
    from teams_app.models import Membership, Role

    bob = django_user_model.objects.create_user(username="bob", password="bob-pass-123")
    Membership.objects.create(team=team, user=bob, role=Role.MEMBER)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {api_key}"
    ids = [
        api.post(
            f"{live.api_url}/sessions/start",
            json={"viewport_width": w, "viewport_height": h},
            timeout=60,
        ).json()["session_id"]
        for w, h in [(1280, 720), (390, 844), (1920, 1080)]
    ]
    api.delete(f"{live.api_url}/sessions/{ids[0]}/stop", timeout=60)

    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for size_name, size in SIZES.items():
            context = browser.new_context(viewport=size, color_scheme=scheme)
            page = context.new_page()
            prefix = f"{size_name}-{scheme}"
            page.goto(f"{live.url}/login/")
            page.screenshot(path=out / f"{prefix}-login.png")
            page.get_by_label("Username").fill("alice")
            page.get_by_label("Password").fill("alice-pass-123")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/sessions/")
            page.screenshot(path=out / f"{prefix}-sessions.png", full_page=True)
            page.locator(".team-switcher > summary").click()
            page.screenshot(path=out / f"{prefix}-switcher.png")
            page.goto(f"{live.url}/sessions/{ids[1]}/")
            page.screenshot(path=out / f"{prefix}-detail.png", full_page=True)
            page.goto(f"{live.url}/team/")
            page.get_by_label("Name", exact=True).fill(f"shots-{prefix}")
            page.get_by_role("button", name="Create API key").click()
            page.screenshot(path=out / f"{prefix}-team.png", full_page=True)
            page.goto(f"{live.url}/sessions/00000000-0000-0000-0000-000000000000/")
            page.screenshot(path=out / f"{prefix}-404.png")
            context.close()
