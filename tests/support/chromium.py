"""The one place tests find a Chromium: the same search the worker makes (PERISCOPE_CHROMIUM,
Playwright's own download, Debian's package). No Chromium is a failure, never a skip."""

import os

import pytest

from browser.launcher import find_chromium


def chromium_executable() -> str:
    path = find_chromium(os.environ.get("PERISCOPE_CHROMIUM") or None)
    if not path:
        pytest.fail("no Chromium found: apt-get install chromium, or set PERISCOPE_CHROMIUM")
    return path
