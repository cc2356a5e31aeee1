"""Carry out one Notte action on a session (the Notte action shapes).

Failures of the action itself come back as ActionOutcome(success=False, message=...), never as
exceptions: the API answers them with HTTP 200, as Notte does.
"""

import asyncio
import contextlib
import json
import re
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import ElementHandle, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from browser.perception.observe import NodeRef
from browser.perception.target import element_target
from browser.session import SessionContext
from browser.url_policy import navigation_refusal

DEFAULT_TIMEOUT_MS = 15000
_HANDLES: ContextVar[list[ElementHandle]] = ContextVar("periscope_action_handles")
# The element the running action acts on, described to be found again (see target.py).
_TARGET: ContextVar[dict[str, Any]] = ContextVar("periscope_action_target")
FILL_TYPES = {"fill", "multi_factor_fill", "fallback_fill"}
FORM_FIELDS = {
    "title": ["honorific-prefix"],
    "first_name": ["given-name"],
    "middle_name": ["additional-name"],
    "last_name": ["family-name"],
    "full_name": ["name"],
    "email": ["email"],
    "company": ["organization"],
    "address1": ["address-line1", "street-address"],
    "address2": ["address-line2"],
    "address3": ["address-line3"],
    "city": ["address-level2"],
    "state": ["address-level1"],
    "postal_code": ["postal-code"],
    "country": ["country", "country-name"],
    "phone": ["tel"],
    "cc_name": ["cc-name"],
    "cc_number": ["cc-number"],
    "cc_exp_month": ["cc-exp-month"],
    "cc_exp_year": ["cc-exp-year"],
    "cc_exp": ["cc-exp"],
    "cc_cvv": ["cc-csc"],
    "username": ["username"],
    "current_password": ["current-password"],
    "password": ["current-password"],
    "new_password": ["new-password"],
    "totp": ["one-time-code"],
}


@dataclass(slots=True)
class ActionOutcome:
    success: bool
    message: str
    data: dict[str, Any] | None = None
    # How to find the element again without observe ids (target.py); None for actions that
    # act on no element (goto, scroll, wait...).
    target: dict[str, Any] | None = None


class ActionFailed(Exception):
    """Raised inside an action to end it with success=False and this message."""


@dataclass(frozen=True, slots=True)
class ActionContext:
    allow_evaluate_js: bool = False
    scrape: Any = None  # async (page, action) -> dict, injected to keep this module small
    # async (session, element handle, value, form_fill key or None) -> the value to type. The
    # worker resolves vault placeholders here, at the moment of filling; None types values as given.
    fill_value: Any = None
    # Describe each element acted on (target.py) for a replay. It costs a page evaluate per
    # action, so only programs that keep a replayable record (agent runs) ask for it.
    describe_target: bool = False


async def execute(
    session: SessionContext, action: dict[str, Any], ctx: ActionContext
) -> ActionOutcome:
    kind = action["type"]
    timeout_ms = action.get("timeout") or DEFAULT_TIMEOUT_MS
    handler = HANDLERS.get(kind)
    if handler is None:
        return ActionOutcome(False, f"action type '{kind}' is not supported by this server")
    handles = _HANDLES.set([])
    resolved = _TARGET.set({"describe": ctx.describe_target})
    try:
        outcome = await handler(session, action, timeout_ms, ctx)
    except ActionFailed as exc:
        outcome = ActionOutcome(False, str(exc))
    except PlaywrightTimeout:
        outcome = ActionOutcome(False, f"Action timed out after {timeout_ms}ms")
    except PlaywrightError as exc:
        outcome = ActionOutcome(False, _short(exc))
    finally:
        outcome_target = _TARGET.get().get("target")
        _TARGET.reset(resolved)
        if session.frames:
            session.frames.touched()
        for handle in _HANDLES.get():
            # Handles pin their element in the page until disposed; the page may live for hours.
            with contextlib.suppress(PlaywrightError):
                await handle.dispose()
        _HANDLES.reset(handles)
    outcome.target = outcome_target
    notes = session.take_notes()
    if notes:
        outcome.message = "; ".join([outcome.message, *notes])
    return outcome


def _short(exc: Exception) -> str:
    text = str(exc).split("\n", 1)[0]
    return re.sub(r"^\w+\.\w+: ", "", text)[:300]


# -- element resolution ---------------------------------------------------------------------------


async def _element(
    session: SessionContext, action: dict[str, Any], timeout_ms: int
) -> tuple[ElementHandle, NodeRef | None]:
    handle, ref = await _resolve(session, action, timeout_ms)
    # Described before the action runs: a click may take the element (and its page) away.
    await _note_target(session, handle, ref)
    return handle, ref


async def _note_target(session: SessionContext, handle: ElementHandle, ref: NodeRef | None) -> None:
    if not _TARGET.get()["describe"]:
        return
    if ref is not None and ref.parent_id and session.snapshot:  # an option: its select
        parent = await _handle_for(session.snapshot.refs[ref.parent_id])
        target = await element_target(parent, ref.frame) if parent is not None else None
        if target is not None:
            target["option"] = ref.name
    else:
        target = await element_target(handle, ref.frame if ref else None)
    _TARGET.get()["target"] = target


async def _resolve(
    session: SessionContext, action: dict[str, Any], timeout_ms: int
) -> tuple[ElementHandle, NodeRef | None]:
    selector = action.get("selector")
    if selector:
        return await _by_selector(session.page, selector, timeout_ms), None
    node_id = action.get("id")
    if not node_id:
        raise ActionFailed("give the element's id from observe, or a selector")
    snapshot = session.snapshot
    ref = snapshot.refs.get(node_id) if snapshot else None
    if snapshot is None:
        raise ActionFailed(f"action '{node_id}' cannot be resolved: observe the page first")
    if ref is None:
        raise ActionFailed(f"action '{node_id}' not found in page context; observe again")
    handle = await _handle_for(ref)
    if handle is None:
        raise ActionFailed(
            f"action '{node_id}' not found in page context (the page changed); observe again"
        )
    return handle, ref


async def _handle_for(ref: NodeRef) -> ElementHandle | None:
    try:
        handle = await ref.frame.evaluate_handle(
            "i => { const n = (window.__periscopeNodes || [])[i]; return n && n.isConnected ? n : null; }",
            ref.index,
        )
    except PlaywrightError:
        return None
    element = handle.as_element()
    if element is None:
        await handle.dispose()
    else:
        _HANDLES.get().append(element)
    return element


async def _by_selector(page: Page, selector: Any, timeout_ms: int) -> ElementHandle:
    frame: Page | Any = page
    if isinstance(selector, dict):
        for parent in selector.get("iframe_parent_css_selectors") or []:
            frame = frame.frame_locator(parent)
        selector = (
            selector.get("playwright_selector")
            or selector.get("css_selector")
            or selector.get("xpath_selector")
        )
        if not selector:
            raise ActionFailed("the selector object has no css, xpath or playwright selector")
    if isinstance(selector, str) and selector.startswith("~"):
        selector = f"text={selector[1:]}"
    locator = frame.locator(selector).first
    try:
        await locator.wait_for(state="attached", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise ActionFailed(f"no element matches selector {selector!r}") from None
    handle = await locator.element_handle(timeout=timeout_ms)
    _HANDLES.get().append(handle)
    return handle


def _label(action: dict[str, Any]) -> str:
    return action.get("id") or str(action.get("selector"))


# -- interaction actions ----------------------------------------------------------------------------

SELECTED_LABEL = (
    "s => s.selectedOptions && s.selectedOptions.length"
    " ? s.selectedOptions[0].textContent.replace(/\\s+/g, ' ').trim() : null"
)


async def _click(session, action, timeout_ms, ctx):
    handle, ref = await _element(session, action, timeout_ms)
    text = ref.name if ref else (await handle.text_content() or "").strip()[:80]
    await handle.click(timeout=timeout_ms)
    await session.settled()
    return ActionOutcome(True, f"Clicked on the element with text label: {text or _label(action)}")


async def _fill(session, action, timeout_ms, ctx):
    handle, _ = await _element(session, action, timeout_ms)
    value = str(action["value"])
    if ctx.fill_value is not None:
        value = await ctx.fill_value(session, handle, value, None)
    if action["type"] == "fallback_fill" or action.get("clear_before_fill") is False:
        if action.get("clear_before_fill", True):
            await handle.fill("", timeout=timeout_ms)
        await handle.focus()
        await session.page.keyboard.type(value)
    else:
        await handle.fill(value, timeout=timeout_ms)
    if action.get("press_enter"):
        await session.page.keyboard.press("Enter")
        await session.settled()
    return ActionOutcome(True, f"Filled the input field '{_label(action)}'")


async def _check(session, action, timeout_ms, ctx):
    handle, _ = await _element(session, action, timeout_ms)
    await handle.set_checked(bool(action["value"]), timeout=timeout_ms)
    state = "Checked" if action["value"] else "Unchecked"
    return ActionOutcome(True, f"{state} the element '{_label(action)}'")


async def _select(session, action, timeout_ms, ctx):
    handle, ref = await _element(session, action, timeout_ms)
    value = str(action["value"])
    if ref is not None and ref.parent_id:  # an O id: select that option in its select
        select = await _handle_for(session.snapshot.refs[ref.parent_id])
        if select is None:
            raise ActionFailed(f"action '{action['id']}' not found in page context; observe again")
        chosen = await select.select_option(value=ref.option_value, timeout=timeout_ms)
    else:
        option_ref = (
            session.snapshot.refs.get(value)
            if session.snapshot and re.fullmatch(r"O\d+", value)
            else None
        )
        if option_ref is not None:
            chosen = await handle.select_option(value=option_ref.option_value, timeout=timeout_ms)
        else:
            chosen = await _select_by_text(handle, value, timeout_ms)
    if not chosen:
        raise ActionFailed(f"no option {value!r} in '{_label(action)}'")
    target = _TARGET.get().get("target")
    if target is not None and "option" not in target:
        target["option"] = await handle.evaluate(SELECTED_LABEL)
    await session.settled()
    return ActionOutcome(True, f"Selected the option '{value}' in '{_label(action)}'")


async def _select_by_text(handle: ElementHandle, value: str, timeout_ms: int) -> list[str]:
    options = await handle.evaluate(
        "s => Array.from(s.options || []).map(o => [o.value, o.textContent.trim()])"
    )
    for option_value, text in options:
        if value in (text, option_value) or value.lower() == text.lower():
            return await handle.select_option(value=option_value, timeout=timeout_ms)
    available = ", ".join(text for _, text in options[:20])
    raise ActionFailed(f"no option {value!r}; available options: {available}")


async def _upload(session, action, timeout_ms, ctx):
    handle, _ = await _element(session, action, timeout_ms)
    path = _session_file(session, action["file_path"])
    await handle.set_input_files(str(path), timeout=timeout_ms)
    return ActionOutcome(True, f"Uploaded {path.name} to '{_label(action)}'")


def _session_file(session: SessionContext, requested: str) -> Path:
    """Only the session's own files can be uploaded: its downloads and uploads, by name."""
    name = Path(requested).name
    if not name or name != requested.replace("downloads/", "").replace("uploads/", ""):
        raise ActionFailed(
            f"file_path {requested!r} must name one of this session's files (e.g. a download)"
        )
    for kind in ("uploads", "downloads"):
        candidate = session.files(kind) / name
        if candidate.is_file():
            return candidate
    raise ActionFailed(f"this session has no file named {name!r}")


async def _download(session, action, timeout_ms, ctx):
    """The file lands in the session's folder (see browser/downloads.py, which also stops it
    while it is written if it passes the per-file or the session's total limit)."""
    handle, _ = await _element(session, action, timeout_ms)
    async with session.page.expect_download(timeout=timeout_ms) as waiting:
        await handle.click(timeout=timeout_ms)
    download = await waiting.value
    try:
        saved = await asyncio.wait_for(
            session.downloads.result(download), max(timeout_ms / 1000, 60)
        )
    except TimeoutError:
        await download.cancel()
        raise ActionFailed(
            f"the download of {download.suggested_filename} did not finish in time"
        ) from None
    if saved.refusal:
        raise ActionFailed(saved.refusal)
    return ActionOutcome(
        True,
        f"Downloaded {saved.name} ({saved.size} bytes)",
        {"file_name": saved.name, "size": saved.size},
    )


async def _form_fill(session, action, timeout_ms, ctx):
    values: dict[str, str] = action["value"]
    filled, missing = [], []
    # One target per field: {"fields": {key: target}} (the keys are the action's own).
    fields: dict[str, dict[str, Any] | None] = {}
    describe = _TARGET.get()["describe"]
    if describe:
        _TARGET.get()["target"] = {
            "selector": None,
            "role": None,
            "name": None,
            "frame_url": None,
            "frame_selectors": [],
            "fields": fields,
        }
    for key, value in values.items():
        tokens = FORM_FIELDS.get(key, [key])
        selector = ", ".join(f'[autocomplete~="{t}"]' for t in tokens) + f', [name="{key}"], #{key}'
        locator = session.page.locator(selector).first
        if await locator.count() == 0:
            missing.append(key)
            continue
        handle = await locator.element_handle(timeout=timeout_ms)
        _HANDLES.get().append(handle)
        if describe:
            fields[key] = await element_target(handle)
        if ctx.fill_value is not None:
            value = await ctx.fill_value(session, handle, str(value), key)
        tag = await handle.evaluate("e => e.localName")
        if tag == "select":
            await _select_by_text(handle, str(value), timeout_ms)
        else:
            await handle.fill(str(value), timeout=timeout_ms)
        filled.append(key)
    if not filled:
        raise ActionFailed(f"no field on this page matches {', '.join(values)}")
    message = f"Filled {', '.join(filled)}"
    return ActionOutcome(True, message + (f"; not found: {', '.join(missing)}" if missing else ""))


# -- browser actions ----------------------------------------------------------------------------------


async def _goto(session, action, timeout_ms, ctx):
    url = action["url"]
    refusal = navigation_refusal(url)
    if refusal:
        raise ActionFailed(refusal)
    response = await session.page.goto(url, timeout=timeout_ms, wait_until="load")
    _refuse_blocked(response, url)
    return ActionOutcome(True, f"Navigated to {session.page.url}")


def _refuse_blocked(response, url: str) -> None:
    if response is not None and response.headers.get("x-periscope-egress") == "refused":
        reason = response.headers.get(
            "x-periscope-egress-reason", "private and internal addresses are blocked"
        )
        raise ActionFailed(f"{url} was not opened: {reason}")


async def _goto_new_tab(session, action, timeout_ms, ctx):
    url = action["url"]
    refusal = navigation_refusal(url)
    if refusal:
        raise ActionFailed(refusal)
    count, cap = len(session.tabs), session.limits.max_tabs
    if count >= cap:
        raise ActionFailed(
            f"this session already has {count} tabs, the most it may have ({cap}); close one with close_tab first"
        )
    previous = session.page
    page = await session.context.new_page()
    await session.switch_to(page)
    try:
        response = await page.goto(url, timeout=timeout_ms, wait_until="load")
        _refuse_blocked(response, url)
    except BaseException:
        # A tab whose URL failed or was refused is of no use, and it would count against the cap.
        back = (
            previous
            if not previous.is_closed()
            else next((t for t in session.tabs if t is not page), None)
        )
        if back is not None:
            await session.switch_to(back)
        with contextlib.suppress(PlaywrightError):
            await page.close()
        raise
    return ActionOutcome(True, f"Opened {page.url} in a new tab ({len(session.tabs) - 1})")


async def _switch_tab(session, action, timeout_ms, ctx):
    tabs = session.tabs
    index = action["tab_index"]
    if not 0 <= index < len(tabs):
        raise ActionFailed(f"there is no tab {index}; this session has tabs 0 to {len(tabs) - 1}")
    await session.switch_to(tabs[index])
    return ActionOutcome(True, f"Switched to tab {index}: {tabs[index].url}")


async def _close_tab(session, action, timeout_ms, ctx):
    closing = session.page
    remaining = [t for t in session.tabs if t is not closing]
    if remaining:
        await session.switch_to(remaining[-1])
        await closing.close()
    else:  # the last tab: a blank one replaces it (opened after, so it never counts twice)
        await closing.close()
        await session.switch_to(await session.context.new_page())
    return ActionOutcome(True, f"Closed the tab; now on {session.page.url}")


async def _history(session, action, timeout_ms, ctx):
    page = session.page
    kind = action["type"]
    if kind == "go_back":
        await page.go_back(timeout=timeout_ms)
    elif kind == "go_forward":
        await page.go_forward(timeout=timeout_ms)
    else:
        await page.reload(timeout=timeout_ms)
    return ActionOutcome(True, f"{kind.replace('_', ' ').capitalize()}: now on {page.url}")


async def _wait(session, action, timeout_ms, ctx):
    ms = max(0, min(int(action["time_ms"]), 30000))
    await asyncio.sleep(ms / 1000)
    return ActionOutcome(True, f"Waited {ms} ms")


async def _scroll(session, action, timeout_ms, ctx):
    amount = action.get("amount")
    sign = -1 if action["type"] == "scroll_up" else 1
    await session.page.evaluate(
        "([a, s]) => window.scrollBy(0, s * (a ?? window.innerHeight))", [amount, sign]
    )
    direction = "up" if sign < 0 else "down"
    return ActionOutcome(
        True, f"Scrolled {direction} by {amount if amount is not None else 'one page'}"
    )


async def _press_key(session, action, timeout_ms, ctx):
    await session.page.keyboard.press(action["key"])
    await session.settled()
    return ActionOutcome(True, f"Pressed {action['key']}")


async def _scrape(session, action, timeout_ms, ctx):
    if ctx.scrape is None:
        raise ActionFailed("scraping is not available on this worker")
    data = await ctx.scrape(session.page, action)
    return ActionOutcome(True, "Scraped the page", data)


async def _evaluate_js(session, action, timeout_ms, ctx):
    if not ctx.allow_evaluate_js:
        raise ActionFailed(
            "evaluate_js is disabled on this server (the operator can enable PERISCOPE_ALLOW_EVALUATE_JS)"
        )
    result = await session.page.evaluate(action["code"])
    return ActionOutcome(
        True,
        "Evaluated the script",
        {"markdown": json.dumps(result, default=str, ensure_ascii=False)},
    )


def _answer(success: bool, message: str):
    async def handler(session, action, timeout_ms, ctx):
        return ActionOutcome(success, message)

    return handler


async def _completion(session, action, timeout_ms, ctx):
    return ActionOutcome(True, f"Completed: {action.get('answer', '')}"[:300])


HANDLERS = {
    "click": _click,
    "fill": _fill,
    "multi_factor_fill": _fill,
    "fallback_fill": _fill,
    "check": _check,
    "select_dropdown_option": _select,
    "upload_file": _upload,
    "download_file": _download,
    "form_fill": _form_fill,
    "goto": _goto,
    "goto_new_tab": _goto_new_tab,
    "switch_tab": _switch_tab,
    "close_tab": _close_tab,
    "go_back": _history,
    "go_forward": _history,
    "reload": _history,
    "wait": _wait,
    "scroll_up": _scroll,
    "scroll_down": _scroll,
    "press_key": _press_key,
    "scrape": _scrape,
    "evaluate_js": _evaluate_js,
    "help": _answer(True, "Help requested"),
    "completion": _completion,
    "captcha_solve": _answer(False, "captcha solving is not supported by this server"),
    "email_read": _answer(
        False,
        "no persona attached to this session: start it with persona_id, or with "
        "the vault of a persona, to read its mail",
    ),
    "sms_read": _answer(
        False,
        "no persona attached to this session: start it with persona_id, or with "
        "the vault of a persona, to read its SMS",
    ),
}
