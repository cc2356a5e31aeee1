"""The resolved target of an action: how to find its element again without observe ids.

Observe ids only mean something until the page changes. An action's result therefore also says
which element it acted on, in terms a fresh load of the same page resolves to the same element:

    {"selector": str,          # a Playwright selector matching exactly this element
     "role": str | None,       # its ARIA role and accessible name, as a person would describe it
     "name": str | None,
     "frame_url": str | None,  # the URL of its iframe; None in the main frame
     "frame_selectors": [str]} # selectors of the iframe elements leading to it, outermost first

The selector is the most stable that is unique on the page: a test id, a stable element id, a
field's name, the role and accessible name, a describing attribute (aria-label, placeholder,
title, alt, href), and only then a CSS path of child steps, whose uniqueness we check with
Playwright's own selector engine (the engine a replay uses). Nothing here reads a field's value
or content: whatever was typed into a field (a vault secret) never reaches a target.
"""

import asyncio
from pathlib import Path
from typing import Any

from playwright.async_api import ElementHandle, Frame
from playwright.async_api import Error as PlaywrightError

TARGET_SCRIPT = (Path(__file__).with_name("target.js")).read_text()
MAX_ROLE_NAME = 80  # longer names read as content, which changes; a CSS selector is safer
# Roles Playwright's role engine knows and that name an element a person would point at.
ROLE_LOCATABLE = frozenset(
    {
        "button",
        "link",
        "checkbox",
        "radio",
        "switch",
        "tab",
        "menuitem",
        "menuitemcheckbox",
        "menuitemradio",
        "option",
        "treeitem",
        "textbox",
        "searchbox",
        "combobox",
        "listbox",
        "slider",
        "spinbutton",
        "img",
        "heading",
    }
)
MAX_FRAME_DEPTH = 8
MAX_CANDIDATES = 8

ONLY_THIS = "(found, wanted) => found.length === 1 && found[0] === wanted"
POSITION = "(found, wanted) => found.indexOf(wanted)"


def role_selector(role: str, name: str) -> str:
    """Playwright's role selector with an exact, case-sensitive name (what get_by_role(role,
    name=..., exact=True) builds)."""
    return f"internal:role={role}[name={_attribute_string(name)}s]"


def _attribute_string(value: str) -> str:
    # Playwright's own escaping for a quoted attribute value in a selector (names here have
    # their whitespace collapsed, so no line break needs escaping).
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def element_target(
    handle: ElementHandle, frame: Frame | None = None
) -> dict[str, Any] | None:
    """The element's target, or None when it cannot be described (it left the page, or sits in
    a closed shadow root no selector reaches)."""
    try:
        if frame is None:
            frame = await handle.owner_frame()
        if frame is None:
            return None
        return await _describe(handle, frame, depth=0)
    except PlaywrightError:
        return None


async def _describe(handle: ElementHandle, frame: Frame, *, depth: int) -> dict[str, Any] | None:
    info = await handle.evaluate(TARGET_SCRIPT)
    role, name = info["role"] or None, info["name"] or None
    candidates = list(info["early"])
    if role in ROLE_LOCATABLE and name and len(name) <= MAX_ROLE_NAME:
        candidates.append(role_selector(role, name))
    candidates.extend(info["late"])
    selector = info["settled"] or await _first_unique(
        frame, handle, [*candidates[: MAX_CANDIDATES - 1], info["path"]]
    )
    if selector is None:
        selector = await _nth(frame, handle, info["path"])
    if selector is None:
        return None
    frame_selectors: list[str] = []
    if frame.parent_frame is not None:
        if depth >= MAX_FRAME_DEPTH:
            return None
        element = await frame.frame_element()
        try:
            outer = await _describe(element, frame.parent_frame, depth=depth + 1)
        finally:
            await element.dispose()
        if outer is None:
            return None
        frame_selectors = [*outer["frame_selectors"], outer["selector"]]
    return {
        "selector": selector,
        "role": role,
        "name": name,
        "frame_url": frame.url if frame.parent_frame is not None else None,
        "frame_selectors": frame_selectors,
    }


async def _first_unique(frame: Frame, handle: ElementHandle, candidates: list[str]) -> str | None:
    """The first candidate that matches only this element. All are asked at once: the checks
    travel together, so this costs about one round trip to the page, not one per candidate."""
    candidates = list(dict.fromkeys(candidates))[:MAX_CANDIDATES]
    answers = await asyncio.gather(*(_only_this(frame, handle, c) for c in candidates))
    return next((c for c, unique in zip(candidates, answers, strict=True) if unique), None)


async def _only_this(frame: Frame, handle: ElementHandle, selector: str) -> bool:
    try:
        return await frame.locator(selector).evaluate_all(ONLY_THIS, handle)
    except PlaywrightError:
        return False  # a selector Playwright reads differently: another one will do


async def _nth(frame: Frame, handle: ElementHandle, path: str) -> str | None:
    """The CSS path (matching more than this element), made unique by the element's position
    among its matches."""
    try:
        position = await frame.locator(path).evaluate_all(POSITION, handle)
    except PlaywrightError:
        return None
    return f"{path} >> nth={position}" if position >= 0 else None
