"""Observe: the page as ids and actions (notte-api-contract.md §4-5), one evaluate per frame."""

import asyncio
import base64
import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Frame, Page

from browser.screencast import FrameCache, current_frame

DOM_SCRIPT = (Path(__file__).with_name("dom.js")).read_text()
MAX_NODES_PER_FRAME = 2000
SAMPLE_VALUE = "<sample_value>"
INTERACTION_CATEGORY = "Interaction action"

LETTER_BY_ROLE = {
    "link": "L",
    **dict.fromkeys(
        ["button", "tab", "menuitem", "menuitemcheckbox", "menuitemradio", "switch", "checkbox", "radio"], "B"
    ),
    **dict.fromkeys(["textbox", "searchbox", "combobox", "listbox", "slider", "spinbutton"], "I"),
    "option": "O",
    **dict.fromkeys(["img", "image", "figure"], "F"),
}
RENDERED_ATTRIBUTES = ("title", "type", "name", "role", "tabindex", "aria-label", "placeholder", "alt", "href",
                       "aria-expanded")


@dataclass(slots=True)
class NodeRef:
    """Where an observed id lives: its frame and its index in that frame's node list."""

    frame: Frame
    index: int
    role: str
    tag: str
    css: str
    shadow_hosts: list[str]
    iframe_path: list[str]
    parent_id: str | None = None
    option_value: str | None = None
    name: str = ""


@dataclass(slots=True)
class Snapshot:
    refs: dict[str, NodeRef] = field(default_factory=dict)
    url: str = ""


@dataclass(slots=True)
class Observation:
    started_at: float
    ended_at: float
    metadata: dict[str, Any]
    screenshot: dict[str, Any]
    actions: list[dict[str, Any]]
    description: str
    category: str | None


async def observe(page: Page, tabs: list[Page], *, frame_cache: FrameCache | None = None) -> tuple[Observation, Snapshot]:
    started = time.time()
    frames = _frames_in_order(page.main_frame)
    shot_task = asyncio.ensure_future(current_frame(frame_cache, page))
    results = await asyncio.gather(*(_extract(f) for f in frames), return_exceptions=True)
    offsets = await _frame_offsets(frames)
    if isinstance(results[0], BaseException):
        shot_task.cancel()
        raise PageChanged(str(results[0])) from results[0]
    try:
        shot = await shot_task
    except Exception:
        shot = await _retry_screenshot(page)

    snapshot = Snapshot(url=page.url)
    counters: dict[str, int] = {}
    actions: list[dict[str, Any]] = []
    lines: list[str] = []
    bboxes: list[dict[str, Any]] = []
    main = results[0]
    viewport = main["viewport"]
    signals = _CategorySignals()

    for frame, result, (off_x, off_y), path in zip(frames, results, offsets, _iframe_paths(frames), strict=True):
        if isinstance(result, BaseException) or result is None:
            continue  # a frame that navigated away mid-observe
        if frame is not page.main_frame:
            lines.append(f"### Content of iframe {result['url']}")
        ids_by_index: dict[int, str] = {}
        text_cursor = 0
        dialog = None
        texts = result["texts"]
        for node in result["nodes"]:
            while text_cursor < len(texts) and texts[text_cursor]["before"] <= node["i"]:
                lines.append(f"_[:]{texts[text_cursor]['text']}")
                text_cursor += 1
            if node.get("dialog") != dialog and node.get("parent") is None:
                dialog = node.get("dialog")
                if dialog:  # modal content gets its own block, as Notte renders it
                    role, _, label = dialog.partition(":")
                    lines.append(f"### Content of '{role}' component" + (f" {label}" if label else ""))
                else:
                    lines.append("### Page content")
            letter = LETTER_BY_ROLE.get(node["role"], "M")
            counters[letter] = counters.get(letter, 0) + 1
            node_id = f"{letter}{counters[letter]}"
            ids_by_index[node["i"]] = node_id
            parent_id = ids_by_index.get(node["parent"]) if node.get("parent") is not None else None
            snapshot.refs[node_id] = NodeRef(
                frame=frame, index=node["i"], role=node["role"], tag=node["tag"], css=node["css"],
                shadow_hosts=node["hosts"], iframe_path=path, parent_id=parent_id,
                option_value=node["attrs"].get("value") if letter == "O" else None, name=node["name"],
            )
            rendering = _render(node)
            lines.append(f"{node_id}[:]{rendering}")
            actions.append(_action(node_id, letter, node, rendering, parent_id))
            signals.add(node)
            if node["w"] or node["h"]:
                bboxes.append({
                    "x": node["x"] + off_x, "y": node["y"] + off_y, "width": node["w"], "height": node["h"],
                    "scroll_x": viewport.get("scroll_x", 0), "scroll_y": viewport.get("scroll_y", 0),
                    "viewport_width": viewport.get("viewport_width", 0),
                    "viewport_height": viewport.get("viewport_height", 0),
                    "iframe_offset_x": off_x, "iframe_offset_y": off_y, "notte_id": node_id,
                })
        for text in texts[text_cursor:]:
            lines.append(f"_[:]{text['text']}")

    tab_list = []
    for tab_id, tab in enumerate(tabs):
        title = main["title"] if tab is page else await _safe_title(tab)
        tab_list.append({"tab_id": tab_id, "title": title, "url": tab.url})
    observation = Observation(
        started_at=started,
        ended_at=time.time(),
        metadata={"title": main["title"], "url": page.url, "viewport": _viewport(viewport), "tabs": tab_list},
        screenshot={"raw": base64.b64encode(shot).decode(), "bboxes": bboxes, "last_action_id": None},
        actions=actions,
        description="\n".join(lines),
        category=signals.category(),
    )
    return observation, snapshot


class PageChanged(Exception):
    """The main frame navigated while it was being read."""


async def _retry_screenshot(page: Page) -> bytes:
    try:
        return await page.screenshot(type="jpeg", quality=60, timeout=5000)
    except Exception:
        return b""  # the SDK shows its own "no screenshot" picture for an empty one


def _frames_in_order(main: Frame) -> list[Frame]:
    frames = [main]
    for child in main.child_frames:
        if not child.is_detached():
            frames.extend(_frames_in_order(child))
    return frames


def _iframe_paths(frames: list[Frame]) -> list[list[str]]:
    """For each frame, the chain of frame names/urls from the top (for selectors in replies)."""
    paths = []
    for frame in frames:
        chain = []
        current = frame
        while current.parent_frame is not None:
            chain.insert(0, current.url)
            current = current.parent_frame
        paths.append(chain)
    return paths


async def _extract(frame: Frame) -> dict[str, Any] | None:
    raw = await frame.evaluate(DOM_SCRIPT, MAX_NODES_PER_FRAME)
    return json.loads(raw)


async def _frame_offsets(frames: list[Frame]) -> list[tuple[float, float]]:
    offsets: list[tuple[float, float]] = []
    cache: dict[Frame, tuple[float, float]] = {}
    for frame in frames:
        if frame.parent_frame is None:
            cache[frame] = (0.0, 0.0)
        else:
            parent = cache.get(frame.parent_frame, (0.0, 0.0))
            box = None
            try:
                element = await frame.frame_element()
                box = await element.bounding_box()
            except Exception:
                box = None
            # bounding_box is already relative to the main frame's viewport
            cache[frame] = (box["x"], box["y"]) if box else parent
        offsets.append(cache[frame])
    return offsets


async def _safe_title(tab: Page) -> str:
    try:
        return await tab.title()
    except Exception:
        return ""


def _viewport(v: dict[str, Any]) -> dict[str, int]:
    keys = ("scroll_x", "scroll_y", "viewport_width", "viewport_height", "total_width", "total_height")
    return {k: int(v.get(k, 0)) for k in keys}


def _render(node: dict[str, Any]) -> str:
    attrs = " ".join(
        f'{name}="{html.escape(str(node["attrs"][name]), quote=True)}"'
        for name in RENDERED_ATTRIBUTES
        if name in node["attrs"]
    )
    tag = node["tag"]
    opening = f"<{tag} {attrs}>" if attrs else f"<{tag}>"
    text = html.escape(node["name"] or "")
    return f"{opening}{text}</{tag}>"


def _action(node_id: str, letter: str, node: dict[str, Any], rendering: str, parent_id: str | None) -> dict[str, Any]:
    action: dict[str, Any] = {"id": node_id, "category": INTERACTION_CATEGORY, "description": rendering}
    role = node["role"]
    if letter == "O":
        action.update(type="select_dropdown_option", value=node["name"] or node["attrs"].get("value", ""))
    elif role in ("checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio"):
        action.update(type="check", value=not node.get("checked", False))
    elif letter == "I" and role in ("combobox", "listbox"):
        action.update(type="select_dropdown_option", value=SAMPLE_VALUE)
    elif letter == "I":
        action.update(type="fill", value=SAMPLE_VALUE)
    elif node["tag"] == "input" and node["attrs"].get("type") == "file":
        action.update(type="upload_file", file_path=SAMPLE_VALUE)
    else:
        action.update(type="click")
    if node.get("disabled"):
        action["description"] += " (disabled)"
    return action


class _CategorySignals:
    """Cheap hints from the controls themselves; anything unclear stays None."""

    def __init__(self):
        self.password = self.card = self.search = self.inputs = 0

    def add(self, node: dict[str, Any]) -> None:
        attrs = node["attrs"]
        if node.get("password"):
            self.password += 1
        if attrs.get("autocomplete", "").startswith("cc-"):
            self.card += 1
        if node["role"] == "searchbox" or attrs.get("type") == "search":
            self.search += 1
        if node["role"] in ("textbox", "searchbox", "combobox", "listbox"):
            self.inputs += 1

    def category(self) -> str | None:
        if self.card:
            return "payment"
        if self.password:
            return "auth"
        if self.inputs >= 3:
            return "form"
        if self.search:
            return "search-results"
        return None
