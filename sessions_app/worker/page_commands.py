"""Page commands a worker runs for its sessions: observe, execute, scrape, screenshot."""

import asyncio
import time
from typing import Any

import orjson

from browser.perception.actions import FILL_TYPES, ActionContext, ActionFailed, execute
from browser.perception.observe import Observation as PageObservation
from browser.perception.observe import PageChanged, observe
from browser.scrape import PageNavigated, ScrapeError, ScrapeResult, scrape_page
from browser.scrape.page import follow_meta_refresh
from browser.screencast import current_frame
from browser.session import SessionContext
from sessions_app.markdown_stage import scrape_options
from sessions_app.schemas import Observation

MASK = "********"


async def observe_wire(session: SessionContext, *, max_nb_actions: int) -> dict[str, Any]:
    """The Observation exactly as the API answers it, as UTF-8 JSON bytes: big replies then
    cross the channel layer and the web process without being decoded, copied or encoded again."""
    observation = await _observe(session)
    actions, description = observation.space(max_nb_actions)
    raw = _raw(observation, with_description=False)
    if len(actions) < len(observation.actions):  # boxes only for what is listed
        listed = {a["id"] for a in actions}
        shot = raw["screenshot"]
        raw["screenshot"] = {
            **shot,
            "bboxes": [b for b in shot["bboxes"] if b.get("notte_id") in listed],
        }
    wire = Observation.wire(raw, actions, description)
    return {"count": len(observation.actions), "json": orjson.dumps(wire)}


async def observe_page(session: SessionContext) -> dict[str, Any]:
    """Every action on the page, for narrowing by instructions on the web side."""
    return _raw(await _observe(session))


async def _observe(session: SessionContext) -> PageObservation:
    await session.settled()
    await session.watch()
    try:
        observation, snapshot = await observe(
            session.page, session.tabs, frame_cache=session.frames
        )
    except PageChanged:
        # A navigation began while we read the page: wait for the new document, read it once more.
        await session.settled()
        await asyncio.sleep(0.05)
        observation, snapshot = await observe(
            session.page, session.tabs, frame_cache=session.frames
        )
    session.snapshot = snapshot
    return observation


def _raw(observation: PageObservation, *, with_description: bool = True) -> dict[str, Any]:
    return {
        "started_at": observation.started_at,
        "ended_at": observation.ended_at,
        "metadata": observation.metadata,
        "screenshot": observation.screenshot,
        "actions": observation.actions,
        "description": observation.description if with_description else "",
        "category": observation.category,
    }


async def _scrape_action(page, action: dict[str, Any]) -> dict[str, Any]:
    try:
        return (await scrape_page(page, scrape_options(action))).to_wire()
    except ScrapeError as exc:
        raise ActionFailed(str(exc)) from None


async def execute_action(
    session: SessionContext,
    action: dict[str, Any],
    *,
    allow_evaluate_js: bool,
    fill_value=None,
    describe_target: bool = False,
) -> dict[str, Any]:
    await session.watch()  # the screencast makes the step's screenshot free when nothing moved
    started = time.time()
    url_before = session.page.url
    outcome = await execute(
        session,
        action,
        ActionContext(
            allow_evaluate_js=allow_evaluate_js,
            scrape=_scrape_action,
            fill_value=fill_value,
            describe_target=describe_target,
        ),
    )
    return {
        "started_at": started,
        "ended_at": time.time(),
        "success": outcome.success,
        "message": outcome.message,
        "data": outcome.data,
        "url_before": url_before,
        "url_after": session.page.url,
        # The element acted on, findable again without observe ids (browser/perception/target.py);
        # only when asked (programs: agent runs, for the exported script). Not part of the API reply.
        "target": outcome.target,
    }


def masked(action: dict[str, Any]) -> dict[str, Any]:
    """The action as it may be stored and shown: typed values never leave the worker."""
    shown = dict(action)
    if shown.get("type") in FILL_TYPES or shown.get("type") == "form_fill":
        shown["value"] = (
            dict.fromkeys(shown["value"], MASK) if isinstance(shown.get("value"), dict) else MASK
        )
    return shown


async def step_screenshot(session: SessionContext) -> bytes:
    try:
        return await current_frame(session.frames, session.page)
    except Exception:
        return b""


async def page_screenshot(
    session: SessionContext, *, image_type: str, quality: int | None, full_page: bool
) -> bytes:
    options: dict[str, Any] = {"type": image_type, "full_page": full_page}
    if image_type == "jpeg":
        options["quality"] = quality or 80
    return await session.page.screenshot(**options)


async def scrape(
    session: SessionContext, options: dict[str, Any], *, follow_refresh: bool = False
) -> dict[str, Any]:
    """follow_refresh (one-shot scrapes of a URL): read the page a meta refresh leads to."""
    if follow_refresh:
        await follow_meta_refresh(session.page)
    return (await _read_settled(session, scrape_options(options))).to_wire()


async def _read_settled(session: SessionContext, options) -> ScrapeResult:
    """A page that navigates while it is read (a script, a meta refresh) is read again once its
    new document is there."""
    await session.settled()
    try:
        return await scrape_page(session.page, options)
    except PageNavigated:
        await session.settled()
        await asyncio.sleep(0.05)
    try:
        return await scrape_page(session.page, options)
    except PageNavigated as exc:
        raise ScrapeError(
            "the page kept changing while it was read; scrape again once it has loaded"
        ) from exc


async def tabs(session: SessionContext) -> list[dict[str, Any]]:
    described = []
    for tab_id, tab in enumerate(session.tabs):
        try:
            title = await tab.title()
        except Exception:
            title = ""
        described.append({"tab_id": tab_id, "title": title, "url": tab.url})
    return described
