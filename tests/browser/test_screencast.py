"""The CDP screencast (browser/screencast.py) in Chromium: a watcher of a static page must see
every change, however small, or the live view shows a stale page until something else moves."""

import asyncio

import pytest

from browser.screencast import Screencast


async def frames_after(cast_frames: list, change, settle: float = 0.4) -> int:
    before = len(cast_frames)
    await change()
    await asyncio.sleep(settle)
    return len(cast_frames) - before


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("max_width", [None, 320])
async def test_each_single_change_of_a_static_page_reaches_the_screencast(page, max_width):
    # One change paints one compositor frame; a screencast that keeps only every other frame
    # (everyNthFrame 2) lost about half of them, and with them typed characters and new pages.
    await page.set_content("<p id=text>start</p>")
    cast = Screencast(page, max_width=max_width)
    frames: list = []
    cast.listeners.append(frames.append)
    await cast.start()
    await asyncio.sleep(0.4)
    try:
        for n in range(8):
            shown = await frames_after(
                frames,
                lambda n=n: page.evaluate(
                    f"document.getElementById('text').textContent = 'change {n}'"
                ),
            )
            assert shown >= 1, f"change {n} never reached the screencast"
    finally:
        await cast.stop()
