import pytest
import pytest_asyncio

from tests.support.chromium import chromium_executable


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def chromium():
    """One headless Chromium per test module, driven by Playwright with no server around it."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_executable(),
            headless=True,
            args=["--disable-background-networking", "--no-sandbox", "--disable-gpu"],
        )
        yield browser
        await browser.close()


@pytest.fixture
def viewport() -> dict[str, int]:
    """The page fixture's size; a module overrides this fixture for another."""
    return {"width": 1280, "height": 800}


@pytest_asyncio.fixture(loop_scope="session")
async def page(chromium, viewport):
    """A page in a fresh context of the module's browser, closed after the test."""
    context = await chromium.new_context(viewport=viewport)
    yield await context.new_page()
    await context.close()
