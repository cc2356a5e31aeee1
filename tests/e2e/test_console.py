"""User journeys through the console in a real Chromium, against the live ASGI server and worker."""

import re

import pytest
import requests
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def _mark_page(page: Page) -> None:
    """A flag on window survives htmx swaps but not a full page load."""
    page.evaluate("window.__noReload = true")


def _assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"


def _csrf(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def test_login_page_refuses_a_wrong_password_and_signs_alice_in(
    page: Page, live, owner, team, login
):
    page.goto(f"{live.url}/sessions/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/sessions/"))
    expect(page.get_by_role("heading", name="Sign in to Periscope")).to_be_visible()

    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")

    login(page)
    expect(page).to_have_url(f"{live.url}/sessions/")
    expect(page.locator(".user-menu > summary")).to_contain_text("alice")
    expect(page.locator(".team-switcher > summary")).to_contain_text("Acme")


def test_logout_is_a_post_form_that_ends_the_session(page: Page, live, owner, team, login):
    login(page)
    page.locator(".user-menu > summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live.url}/login/")
    page.goto(f"{live.url}/team/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/team/"))


def test_alice_starts_watches_and_stops_a_session_without_reloads(
    page: Page, live, owner, team, login
):
    login(page)
    expect(page.get_by_text("No sessions yet.")).to_be_visible()
    _mark_page(page)

    page.get_by_label("Viewport width").fill("1024")
    page.get_by_label("Viewport height").fill("768")
    page.get_by_role("button", name="Start session").click()

    row = page.locator("#session-table tbody tr").first
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("1024\N{MULTIPLICATION SIGN}768")
    expect(row).to_contain_text("alice")
    _assert_not_reloaded(page)

    row.get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Session "))).to_contain_text("Active")
    timeline = page.locator(".timeline")
    expect(timeline.locator(".timeline-item")).to_have_count(2)
    expect(timeline).to_contain_text("start requested")
    expect(timeline.locator(".timeline-item").nth(1)).to_contain_text("Active")
    session_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert not re.search(r"\{[#%{]", page.locator("body").inner_text()), "template syntax leaked"
    expect(page.locator(".urls")).to_contain_text(f"/cdp/{session_id}")

    _mark_page(page)
    page.get_by_role("button", name="Stop session").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Session "))).to_contain_text("Closed")
    expect(timeline.locator(".timeline-item").last).to_contain_text("stopped by alice")
    expect(page.get_by_role("button", name="Stop session")).to_have_count(0)
    _assert_not_reloaded(page)

    page.get_by_role("link", name="Sessions", exact=True).first.click()
    row = page.locator(f"#session-{session_id}")
    expect(row).to_contain_text("Closed")
    expect(row.get_by_role("button", name="Stop")).to_have_count(0)


def test_stop_from_the_list_and_polling_follow_api_changes(
    page: Page, live, owner, team, api_key, login
):
    login(page)
    _mark_page(page)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {api_key}"

    first = api.post(f"{live.api_url}/sessions/start", json={}, timeout=60).json()["session_id"]
    second = api.post(f"{live.api_url}/sessions/start", json={}, timeout=60).json()["session_id"]
    # Started elsewhere: the polled table picks both up, with the key as who started them.
    expect(page.locator(f"#session-{first}")).to_contain_text("Active")
    expect(page.locator(f"#session-{first}")).to_contain_text("key tests")

    api.delete(f"{live.api_url}/sessions/{first}/stop", timeout=60)
    expect(page.locator(f"#session-{first}")).to_contain_text("Closed")

    page.locator(f"#session-{second}").get_by_role("button", name="Stop").click()
    expect(page.locator(f"#session-{second}")).to_contain_text("Closed")
    _assert_not_reloaded(page)

    page.get_by_role("navigation", name="Filter by status").get_by_role(
        "link", name="Active"
    ).click()
    expect(page).to_have_url(re.compile(r"status=active"))
    expect(page.get_by_text("No active sessions.")).to_be_visible()


def test_a_refused_start_shows_why_in_the_form(
    page: Page, live, owner, team, api_key, login, settings
):
    settings.PERISCOPE_TEAM_SESSION_CAP = 1
    requests.post(
        f"{live.api_url}/sessions/start",
        json={},
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=60,
    ).raise_for_status()
    login(page)
    page.get_by_role("button", name="Start session").click()
    expect(page.locator("#sessions-panel .alert-error")).to_contain_text(
        "the most it may run at once (1)"
    )
    expect(page.locator("#session-table tbody tr")).to_have_count(1)


def test_a_viewer_sees_no_start_or_stop_and_is_refused(
    page: Page, live, owner, team, api_key, viewer, login
):
    started = requests.post(
        f"{live.api_url}/sessions/start",
        json={},
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=60,
    ).json()["session_id"]

    login(page, "victor", "pass-for-e2e-123")
    row = page.locator(f"#session-{started}")
    expect(row).to_contain_text("Active")
    expect(page.get_by_role("button", name="Start session")).to_have_count(0)
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)

    row.get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Session "))).to_contain_text("Active")
    expect(page.get_by_role("button", name="Stop session")).to_have_count(0)

    # The controls are hidden, and the views refuse the requests anyway.
    headers = {"X-CSRFToken": _csrf(page), "Referer": live.url + "/sessions/"}
    start = page.request.post(
        f"{live.url}/sessions/start/",
        headers=headers,
        form={
            "viewport_width": "1280",
            "viewport_height": "800",
            "idle_timeout_minutes": "3",
            "max_duration_minutes": "15",
        },
    )
    assert start.status == 403
    stop = page.request.post(
        f"{live.url}/sessions/{started}/stop/", headers=headers, form={"from": "list"}
    )
    assert stop.status == 403
    page.reload()
    expect(page.get_by_role("heading", name=re.compile(r"^Session "))).to_contain_text("Active")

    page.goto(f"{live.url}/team/")
    expect(page.get_by_role("button", name="Create API key")).to_have_count(0)
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)


def test_a_new_api_key_is_shown_once_works_and_stops_working_when_revoked(
    page: Page, live, owner, team, login
):
    login(page)
    page.get_by_role("link", name="Team", exact=True).click()
    expect(page.get_by_role("heading", name="Acme", exact=True)).to_be_visible()

    page.get_by_label("Name", exact=True).fill("ci-runner")
    page.get_by_role("button", name="Create API key").click()
    box = page.locator("#new-key")
    expect(box).to_be_visible()
    raw = box.inner_text().strip()
    assert raw.startswith("nk_")
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    page.reload()  # a refresh neither creates a second key nor shows this one again
    expect(page.locator("#new-key")).to_have_count(0)
    from teams_app.models import ApiKey

    assert ApiKey.objects.filter(team=team, name="ci-runner").count() == 1

    auth = {"Authorization": f"Bearer {raw}"}
    assert requests.get(f"{live.api_url}/sessions/", headers=auth, timeout=30).status_code == 200

    page.goto(f"{live.url}/team/")
    expect(page.locator("#new-key")).to_have_count(0)
    assert raw not in page.content()
    row = page.locator("tr[id^=key-]", has_text="ci-runner")
    expect(row).to_contain_text("Active")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("Revoked")
    audit = page.locator("section", has=page.get_by_role("heading", name="Audit log"))
    expect(audit).to_contain_text("api_key.revoked")
    assert requests.get(f"{live.api_url}/sessions/", headers=auth, timeout=30).status_code == 401


def test_owners_add_members_change_roles_and_remove_them(
    page: Page, live, owner, team, login, django_user_model
):
    django_user_model.objects.create_user(username="bob", password="bob-pass-123")
    login(page)
    page.goto(f"{live.url}/team/")

    page.get_by_label("Username").fill("bob")
    page.get_by_role("combobox", name="Role", exact=True).select_option("member")
    page.get_by_role("button", name="Add member").click()
    bob = page.locator("tr[id^=member-]", has_text="bob")
    expect(bob.get_by_label("Role of bob")).to_have_value("member")

    bob.get_by_label("Role of bob").select_option("admin")
    bob.get_by_role("button", name="Save").click()
    expect(bob.get_by_label("Role of bob")).to_have_value("admin")

    page.get_by_label("Username").fill("nobody")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".messages")).to_contain_text("no user called 'nobody'")

    page.once("dialog", lambda dialog: dialog.accept())
    bob.get_by_role("button", name="Remove").click()
    expect(bob).to_have_count(0)
    audit = page.locator("section", has=page.get_by_role("heading", name="Audit log"))
    expect(audit).to_contain_text("member.removed")


def test_the_team_switcher_moves_between_teams(page: Page, live, owner, team, login):
    from teams_app.services import team_create

    team_create(name="Globex", owner=owner)
    login(page)
    page.get_by_role("link", name="Team", exact=True).click()
    expect(page.get_by_role("heading", name="Acme", exact=True)).to_be_visible()

    page.locator(".team-switcher > summary").click()
    page.get_by_role("button", name=re.compile(r"^Globex")).click()
    expect(page).to_have_url(f"{live.url}/team/")
    expect(page.get_by_role("heading", name="Globex", exact=True)).to_be_visible()
    expect(page.locator(".team-switcher > summary")).to_contain_text("Globex")

    # The choice sticks across pages.
    page.get_by_role("link", name="Sessions", exact=True).first.click()
    expect(page.get_by_text("Remote Chromium sessions of Globex")).to_be_visible()

    page.locator(".team-switcher > summary").click()
    page.get_by_role("button", name=re.compile(r"^Acme")).click()
    expect(page.get_by_text("Remote Chromium sessions of Acme")).to_be_visible()


def test_the_team_switcher_only_redirects_within_the_site(page: Page, live, owner, team, login):
    login(page)
    headers = {"X-CSRFToken": _csrf(page)}
    response = page.request.post(
        f"{live.url}/team/switch/",
        headers=headers,
        max_redirects=0,
        form={"team_id": str(team.id), "next": "https://evil.example/"},
    )
    assert response.status == 302
    assert response.headers["location"] == "/sessions/"
    response = page.request.post(
        f"{live.url}/team/switch/",
        headers=headers,
        max_redirects=0,
        form={"team_id": str(team.id), "next": "/team/"},
    )
    assert response.headers["location"] == "/team/"
