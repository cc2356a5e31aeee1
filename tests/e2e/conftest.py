"""Browser tests: Playwright's sync API drives Chromium against the live ASGI server.

Playwright's sync API keeps an event loop running in the test thread from its first use until
the end of the pytest session, so Django's async-safety check would refuse the ORM calls the
fixtures make. Hence, and only here:

- DJANGO_ALLOW_ASYNC_UNSAFE is set while this package's tests run (not at import time, which
  would switch the check off for every test in the run);
- these tests run after all others, so no other test runs beside Playwright's loop;
- the browser is closed when the package ends, so no Chromium of ours outlives it (tests that
  count the worker's Chromium processes must not see it).
"""

import os

import pytest
from playwright.sync_api import Page, expect

from tests.support.chromium import chromium_executable

PASSWORD = "pass-for-e2e-123"

expect.set_options(timeout=15_000)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)  # stable: e2e last


@pytest.fixture(scope="package", autouse=True)
def allow_sync_orm_beside_playwright():
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(launch_browser):
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable(),
        "args": ["--disable-background-networking", "--no-sandbox", "--disable-gpu"],
    }


@pytest.fixture
def login(live):
    def sign_in(page: Page, username: str = "alice", password: str = "alice-pass-123") -> Page:
        page.goto(f"{live.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Sessions", exact=True)).to_be_visible()
        return page

    return sign_in


@pytest.fixture
def viewer(team, django_user_model):
    """Victor may look at Acme's sessions but not start or stop them."""
    from teams_app.models import Membership, Role

    user = django_user_model.objects.create_user(username="victor", password=PASSWORD)
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)
    return user
