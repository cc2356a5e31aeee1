"""Observe: the page as ids and actions (the Notte observe shape), one evaluate per frame."""

import asyncio
import base64
import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from playwright.async_api import Frame, Page

from browser.screencast import FrameCache, current_frame_b64

DOM_SCRIPT = (Path(__file__).with_name("dom.js")).read_text()
MAX_NODES_PER_FRAME = 2000
SAMPLE_VALUE = "<sample_value>"
INTERACTION_CATEGORY = "Interaction action"

LETTER_BY_ROLE = {
    "link": "L",
    **dict.fromkeys(
        [
            "button",
            "tab",
            "menuitem",
            "menuitemcheckbox",
            "menuitemradio",
            "switch",
            "checkbox",
            "radio",
        ],
        "B",
    ),
    **dict.fromkeys(["textbox", "searchbox", "combobox", "listbox", "slider", "spinbutton"], "I"),
    "option": "O",
    **dict.fromkeys(["img", "image", "figure"], "F"),
}
RENDERED_ATTRIBUTES = (
    "title",
    "type",
    "name",
    "role",
    "tabindex",
    "aria-label",
    "placeholder",
    "alt",
    "href",
    "aria-expanded",
)


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
class Line:
    """One line of the page as text, in document order: a block header, a heading's text, or an
    action (then `action` indexes Observation.actions)."""

    text: str
    kind: str  # "block" | "text" | "action"
    action: int | None = None


@dataclass(slots=True)
class Observation:
    started_at: float
    ended_at: float
    metadata: dict[str, Any]
    screenshot: dict[str, Any]
    actions: list[dict[str, Any]]  # every action on the page, in document order
    lines: list[Line]
    ranks: list[int]  # per action: lower is listed first when a cap leaves some out
    category: str | None
    cut: bool = False  # a frame's reading stopped at MAX_NODES_PER_FRAME: its rest is unread

    @property
    def description(self) -> str:
        return render(self.lines, set(range(len(self.actions))), len(self.actions), cut=self.cut)

    def space(self, limit: int) -> tuple[list[dict[str, Any]], str]:
        """At most `limit` actions and the page's description listing exactly those.

        When some must go, what is kept is what a person would reach for first: the page's own
        controls and what is on or near the screen, before long runs of navigation links (a
        documentation sidebar can hold 150 links above the page's search box). The kept actions
        stay in document order, and the description ends with a note of what was left out.
        """
        if limit >= len(self.actions):
            return self.actions, self.description
        kept = set(sorted(range(len(self.actions)), key=lambda i: (self.ranks[i], i))[:limit])
        return [a for i, a in enumerate(self.actions) if i in kept], render(
            self.lines, kept, len(self.actions), cut=self.cut
        )


async def observe(
    page: Page, tabs: list[Page], *, frame_cache: FrameCache | None = None
) -> tuple[Observation, Snapshot]:
    started = time.time()
    frames = _frames_in_order(page.main_frame)
    shot_task = asyncio.ensure_future(current_frame_b64(frame_cache, page))
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
    lines: list[Line] = []
    ranks: list[int] = []
    bboxes: list[dict[str, Any]] = []
    main = results[0]
    viewport = main["viewport"]
    signals = _CategorySignals()

    for frame, result, (off_x, off_y), path in zip(
        frames, results, offsets, _iframe_paths(frames), strict=True
    ):
        if isinstance(result, BaseException) or result is None:
            continue  # a frame that navigated away mid-observe
        if frame is not page.main_frame:
            lines.append(Line(f"### Content of iframe {result['url']}", "block"))
        link_runs = _link_runs(result["nodes"])
        ids_by_index: dict[int, str] = {}
        text_cursor = 0
        dialog = None
        texts = result["texts"]
        for node in result["nodes"]:
            while text_cursor < len(texts) and texts[text_cursor]["before"] <= node["i"]:
                lines.append(Line(f"_[:]{texts[text_cursor]['text']}", "text"))
                text_cursor += 1
            if node.get("dialog") != dialog and node.get("parent") is None:
                dialog = node.get("dialog")
                if dialog:  # modal content gets its own block, as Notte renders it
                    role, _, label = dialog.partition(":")
                    lines.append(
                        Line(
                            f"### Content of '{role}' component" + (f" {label}" if label else ""),
                            "block",
                        )
                    )
                else:
                    lines.append(Line("### Page content", "block"))
            letter = LETTER_BY_ROLE.get(node["role"], "M")
            counters[letter] = counters.get(letter, 0) + 1
            node_id = f"{letter}{counters[letter]}"
            ids_by_index[node["i"]] = node_id
            parent_id = ids_by_index.get(node["parent"]) if node.get("parent") is not None else None
            snapshot.refs[node_id] = NodeRef(
                frame=frame,
                index=node["i"],
                role=node["role"],
                tag=node["tag"],
                css=node["css"],
                shadow_hosts=node["hosts"],
                iframe_path=path,
                parent_id=parent_id,
                option_value=node["attrs"].get("value") if letter == "O" else None,
                name=node["name"],
            )
            rendering = _render(node)
            lines.append(Line(f"{node_id}[:]{rendering}", "action", len(actions)))
            actions.append(_action(node_id, letter, node, rendering, parent_id))
            ranks.append(_rank(letter, node, off_y, viewport, link_runs.get(node["i"], 0)))
            signals.add(node)
            if node["w"] or node["h"]:
                bboxes.append(
                    {
                        "x": node["x"] + off_x,
                        "y": node["y"] + off_y,
                        "width": node["w"],
                        "height": node["h"],
                        "scroll_x": viewport.get("scroll_x", 0),
                        "scroll_y": viewport.get("scroll_y", 0),
                        "viewport_width": viewport.get("viewport_width", 0),
                        "viewport_height": viewport.get("viewport_height", 0),
                        "iframe_offset_x": off_x,
                        "iframe_offset_y": off_y,
                        "notte_id": node_id,
                    }
                )
        for text in texts[text_cursor:]:
            lines.append(Line(f"_[:]{text['text']}", "text"))

    tab_list = []
    for tab_id, tab in enumerate(tabs):
        title = main["title"] if tab is page else await _safe_title(tab)
        tab_list.append({"tab_id": tab_id, "title": title, "url": tab.url})
    observation = Observation(
        started_at=started,
        ended_at=time.time(),
        metadata={
            "title": main["title"],
            "url": page.url,
            "viewport": _viewport(viewport),
            "tabs": tab_list,
        },
        screenshot={
            "raw": shot,
            "bboxes": bboxes,
            "last_action_id": None,
        },
        actions=actions,
        lines=lines,
        ranks=ranks,
        category=signals.category(),
        cut=any(isinstance(r, dict) and r.get("cut") for r in results),
    )
    return observation, snapshot


# -- what a capped observation keeps -----------------------------------------------------------

NAVIGATION_RUN = 8  # this many links in a row, with no other control between, read as a menu
MAX_TEXT_LINES = 300  # headings shown in a description; a long reference page has thousands


def _link_runs(nodes: list[dict[str, Any]]) -> dict[int, int]:
    """For each link node, the length of the run of consecutive links it belongs to."""
    runs: dict[int, int] = {}
    current: list[int] = []
    for node in [*nodes, None]:
        if node is not None and node["role"] == "link" and node.get("parent") is None:
            current.append(node["i"])
            continue
        for index in current:
            runs[index] = len(current)
        current = []
    return runs


def _rank(
    letter: str, node: dict[str, Any], frame_y: float, viewport: dict[str, Any], run: int
) -> int:
    """0 is kept first. Controls before links; on or near the screen before far below; links
    in navigation (a nav/aside/header/footer, or a long run of links) last."""
    height = viewport.get("viewport_height") or 1000
    y = node["y"] + frame_y
    near = -0.5 * height <= y <= 2 * height
    if letter != "L":
        return 0 if near else 2
    if node.get("nav") or run >= NAVIGATION_RUN:
        return 4 if near else 5
    return 1 if near else 3


def render(lines: list[Line], kept: set[int], total: int, *, cut: bool = False) -> str:
    """The description of the kept actions: their lines, the first MAX_TEXT_LINES headings and
    the block headers of blocks that keep something, plus closing notes that count what was left
    out, so a reader (a model) knows the page holds more than it was shown."""
    out: list[str] = []
    pending_block: str | None = None
    texts = 0
    for line in lines:
        if line.kind == "block":
            pending_block = line.text
            continue
        if line.kind == "action" and line.action not in kept:
            continue
        if line.kind == "text":
            texts += 1
            if texts > MAX_TEXT_LINES:
                continue
        if pending_block is not None:
            out.append(pending_block)
            pending_block = None
        out.append(line.text)
    left_out = total - len(kept)
    if left_out > 0:
        out.append(
            f"_[:]({left_out} more actions on this page are not listed, mostly navigation links and "
            "controls far from the screen: scroll, raise max_nb_actions, or observe with instructions)"
        )
    if texts > MAX_TEXT_LINES:
        out.append(f"_[:]({texts - MAX_TEXT_LINES} more headings on this page are not shown)")
    if cut:
        out.append(
            f"_[:](observe reads at most {MAX_NODES_PER_FRAME} controls in a frame and stopped there "
            "on this page: what follows in document order was not read, nor counted above)"
        )
    return "\n".join(out)


class PageChanged(Exception):
    """The main frame navigated while it was being read."""


async def _retry_screenshot(page: Page) -> str:
    """The page as base64 JPEG, or "" (the SDK shows its own "no screenshot" picture for that)."""
    try:
        return base64.b64encode(
            await page.screenshot(type="jpeg", quality=60, timeout=5000)
        ).decode()
    except Exception:
        return ""


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
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # A lone surrogate: text cut between an emoji's two halves, or the page's own. No JSON
        # answer can carry one, so it reads as U+FFFD.
        return _well_formed(json.loads(raw))


def _well_formed(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {key: _well_formed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_well_formed(item) for item in value]
    return value


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
    keys = (
        "scroll_x",
        "scroll_y",
        "viewport_width",
        "viewport_height",
        "total_width",
        "total_height",
    )
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


def _action(
    node_id: str, letter: str, node: dict[str, Any], rendering: str, parent_id: str | None
) -> dict[str, Any]:
    action: dict[str, Any] = {
        "id": node_id,
        "category": INTERACTION_CATEGORY,
        "description": rendering,
    }
    role = node["role"]
    if letter == "O":
        action.update(
            type="select_dropdown_option", value=node["name"] or node["attrs"].get("value", "")
        )
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
