"""The notte agent peer for bench/agents.py: runs notte's agent (notte-agent, the open-source
package, at the version our SDK speaks) on the scripted LLM, in its own virtualenv
(bench/peers/notte-venv), on a Chromium the caller started in remote-debugging mode.

    notte-venv/bin/python bench/peers/notte_agent_peer.py --cdp-url URL --llm-url URL

Same protocol as browser_use_peer.py: one JSON command a line on stdin, one JSON answer a line:

    {"op": "run", "task": "...", "url": "http://...", "max_steps": 8}
    -> {"answer": ..., "success": ..., "steps": [{"start": t, "end": t, "llm_ms": x, "llm_calls": n}]}
    {"op": "quit"}

A step is one call of NotteAgent.step (observe, prompt, LLM call, action; on a completion, the
validator's LLM call too), timed here with time.time() at its ends. LLM time is the time spent in
litellm.acompletion, the call notte's LLM engine makes for each request.
The first line printed is {"ready": true, "version": ...} or {"ready": false, "error": ...}.
"""

import argparse
import asyncio
import json
import os
import sys
import time
import traceback

os.environ.setdefault("DISABLE_TELEMETRY", "true")
os.environ.setdefault("NOTTE_DISABLE_TELEMETRY", "true")
os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch of the price list

_protocol = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

CURRENT: dict = {}


def send(message: dict) -> None:
    _protocol.write(json.dumps(message) + "\n")
    _protocol.flush()


def instrument() -> None:
    """Time each agent step and each LLM request, for every agent this process creates."""
    import litellm
    from notte_agent.agent import NotteAgent

    original_acompletion = litellm.acompletion

    async def timed_acompletion(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await original_acompletion(*args, **kwargs)
        finally:
            CURRENT["llm_ms"] = CURRENT.get("llm_ms", 0.0) + (time.perf_counter() - t0) * 1000
            CURRENT["llm_calls"] = CURRENT.get("llm_calls", 0) + 1

    litellm.acompletion = timed_acompletion

    original_step = NotteAgent.step

    async def timed_step(self, *args, **kwargs):
        CURRENT.clear()
        start = time.time()
        try:
            return await original_step(self, *args, **kwargs)
        finally:
            STEPS.append({"start": start, "end": time.time(), **CURRENT})

    NotteAgent.step = timed_step


def connect_over_cdp() -> None:
    """notte 1.8.28 accepts cdp_url but its local session never connects with it (it refuses to
    launch a browser when one is given and has no other path): connect over CDP instead, with the
    method notte already has for that. Each session then gets a new context in that browser."""
    from notte_browser.playwright import PlaywrightManager

    original = PlaywrightManager.create_playwright_browser

    async def create_playwright_browser(self, options):
        if options.cdp_url is not None:
            return await self.connect_cdp_browser(options)
        return await original(self, options)

    PlaywrightManager.create_playwright_browser = create_playwright_browser


STEPS: list[dict] = []


async def run_task(command: dict, cdp_url: str) -> dict:
    from notte_agent import Agent
    from notte_browser.session import NotteSession

    STEPS.clear()
    async with NotteSession(cdp_url=cdp_url, headless=True) as session:
        agent = Agent(
            session=session,
            reasoning_model="openai/gpt-4o",
            use_vision=False,  # the same for all three agents: text prompts only
            max_steps=command.get("max_steps", 8),
        )
        response = await agent.arun(task=command["task"], url=command["url"])
    return {
        "answer": response.answer,
        "success": response.success,
        "steps": list(STEPS),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cdp-url", required=True)
    parser.add_argument("--llm-url", required=True)
    args = parser.parse_args()
    # litellm's OpenAI provider reads its endpoint and key from the environment.
    os.environ["OPENAI_API_BASE"] = args.llm_url
    os.environ["OPENAI_BASE_URL"] = args.llm_url
    os.environ["OPENAI_API_KEY"] = "bench"
    try:
        from importlib import metadata

        instrument()
        connect_over_cdp()
        version = metadata.version("notte-agent")
    except Exception as exc:
        traceback.print_exc()
        send({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    send({"ready": True, "version": version})
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        if command.get("op") == "quit":
            break
        try:
            send(await run_task(command, args.cdp_url))
        except Exception as exc:
            traceback.print_exc()
            send({"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    asyncio.run(main())
