"""The notte peer for bench/perception.py: runs the same operations with the open-source `notte`
package, in its own virtualenv (var/bench-peers/notte-venv), on a Chromium the caller started in
remote-debugging mode.

    notte-venv/bin/python bench/peers/notte_peer.py --cdp-url http://127.0.0.1:PORT --site URL

It opens one notte session per test page (login, controls, article, reference). Each `connect` borrows the
last tab of the browser's default context. The first session keeps it; each later one moves to a
page in a new window of its own (see new_window).
Then it reads commands, one JSON object a line, from stdin, and answers each with one JSON line:

    {"op": "observe" | "observe_all" | "fill" | "click" | "scrape" | "screenshot", "page": "login", "round": 3}
    -> {"ms": 145.2, "detail": {...}}          (or {"error": "..."})
    {"op": "quit"}

The time is taken around notte's own call only, in this process: the pipe is not in it.
The first line it prints is {"ready": true, "version": ..., "ids": {...}} or {"ready": false, "error": ...}.
Only this protocol goes to stdout: anything a library prints is sent to stderr.
"""

import argparse
import asyncio
import json
import os
import sys
import time
import traceback

os.environ.setdefault("DISABLE_TELEMETRY", "true")

PAGES = ("login", "controls", "article", "reference")
# The element (HTML id) each page's fill and click use; bench/perception.py uses the same ones.
TARGETS = {
    "login": {"fill": "email", "click": "toggle-password"},
    "controls": {"fill": "qty-1", "click": "restock-7"},
}

# Our protocol gets the real stdout; everything else printed (prints, loggers) goes to stderr.
_protocol = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


def send(message: dict) -> None:
    _protocol.write(json.dumps(message) + "\n")
    _protocol.flush()


def find_id(observation, html_id: str) -> str:
    """notte's id for the element with this HTML id (its css selector names the id)."""
    for action in observation.space.interaction_actions:
        if action.selector is not None and f'[id="{html_id}"]' in action.selector.css_selector:
            return action.id
    raise LookupError(f"no action for #{html_id} in notte's observation")


async def new_window(context):
    """A page in a new browser window. Headless Chromium renders only the front tab of a window,
    so a screenshot of a background tab never returns: each session needs its own window."""
    cdp = await context.browser.new_browser_cdp_session()
    async with context.expect_page() as info:
        await cdp.send("Target.createTarget", {"url": "about:blank", "newWindow": True})
    await cdp.detach()
    return await info.value


async def open_sessions(cdp_url: str, site: str):
    from notte_browser.session import NotteSession

    sessions, ids = {}, {}
    for name in PAGES:
        session = NotteSession(cdp_url=cdp_url, headless=True)
        await session.astart()  # borrows the default context's last tab
        if sessions:  # the first session keeps that tab; each later one gets a window of its own
            session.window.page = await new_window(session.window.page.context)
        await session.aexecute(type="goto", url=f"{site}/{name}.html")
        observation = await session.aobserve()
        sessions[name] = session
        if name in TARGETS:
            ids[name] = {op: find_id(observation, html_id) for op, html_id in TARGETS[name].items()}
    return sessions, ids


async def observe(session, *, whole_page: bool):
    """notte's observe. By default (viewport_expansion = 0) it lists only the controls in the
    viewport; whole_page sets viewport_expansion = -1 for this call, so it lists them all, as ours does."""
    from notte_core.config import config

    if not whole_page:
        return await session.aobserve()
    default = config.viewport_expansion
    object.__setattr__(config, "viewport_expansion", -1)  # the config model is frozen
    try:
        return await session.aobserve()
    finally:
        object.__setattr__(config, "viewport_expansion", default)


async def run_op(sessions, ids, op: str, page: str, round_no: int) -> dict:
    session = sessions[page]
    t0 = time.perf_counter()
    if op in ("observe", "observe_all"):
        observation = await observe(session, whole_page=op == "observe_all")
        ms = (time.perf_counter() - t0) * 1000
        return {"ms": ms, "detail": {"actions": len(observation.space.interaction_actions)}}
    if op == "fill":
        result = await session.aexecute(
            type="fill",
            id=ids[page]["fill"],
            value=f"{round_no}@example.com" if page == "login" else str(round_no),
        )
    elif op == "click":
        result = await session.aexecute(type="click", id=ids[page]["click"])
    elif op == "scrape":
        markdown = await session.ascrape(only_main_content=False, scrape_links=True)
        ms = (time.perf_counter() - t0) * 1000
        return {"ms": ms, "detail": {"markdown_chars": len(markdown)}}
    elif op == "screenshot":
        shot = await session.ascreenshot()
        ms = (time.perf_counter() - t0) * 1000
        return {"ms": ms, "detail": {"bytes": len(shot.raw)}}
    else:
        return {"error": f"unknown op {op!r}"}
    ms = (time.perf_counter() - t0) * 1000
    if not result.success:
        return {"error": f"{op} failed: {result.message}", "ms": ms}
    return {"ms": ms}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cdp-url", required=True)
    parser.add_argument("--site", required=True)
    args = parser.parse_args()
    try:
        from importlib import metadata

        sessions, ids = await open_sessions(args.cdp_url, args.site)
        version = metadata.version("notte")
    except Exception as exc:
        traceback.print_exc()
        send({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    send({"ready": True, "version": version, "ids": ids})
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        if command["op"] == "quit":
            break
        try:
            send(
                await run_op(sessions, ids, command["op"], command["page"], command.get("round", 0))
            )
        except Exception as exc:
            traceback.print_exc()
            send({"error": f"{type(exc).__name__}: {exc}"})
    for session in sessions.values():
        try:
            await session.astop()
        except Exception:
            traceback.print_exc()


if __name__ == "__main__":
    asyncio.run(main())
