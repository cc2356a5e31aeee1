"""The browser-use peer for bench/agents.py: runs browser-use's Agent on the scripted LLM, in its
own virtualenv (bench/peers/browser-use-venv), on a Chromium the caller started in
remote-debugging mode.

    browser-use-venv/bin/python bench/peers/browser_use_peer.py --cdp-url URL --llm-url URL

It reads one JSON command a line from stdin and answers each with one JSON line:

    {"op": "run", "task": "...", "url": "http://...", "max_steps": 8}
    -> {"answer": ..., "success": ..., "steps": [{"start": t, "end": t, "llm_ms": x, "llm_calls": n}]}
    {"op": "quit"}

A step is one call of Agent.step (browser state, prompt, LLM call, actions, history), timed here
with time.time() at its ends, so the caller can line it up with the LLM server's log. LLM time is
the time spent inside the chat model's ainvoke (the OpenAI client call and its parsing).
The first line printed is {"ready": true, "version": ...} or {"ready": false, "error": ...}.
"""

import argparse
import asyncio
import json
import os
import sys
import time
import traceback

# Offline and quiet: no telemetry, no cloud sync, no version check.
os.environ.update(
    ANONYMIZED_TELEMETRY="false",
    BROWSER_USE_CLOUD_SYNC="false",
    BROWSER_USE_VERSION_CHECK="false",
    BROWSER_USE_CLOUD_HINTS="false",
    BROWSER_USE_LOGGING_LEVEL="warning",
)

_protocol = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


def send(message: dict) -> None:
    _protocol.write(json.dumps(message) + "\n")
    _protocol.flush()


async def run_task(command: dict, cdp_url: str, llm_url: str) -> dict:
    from browser_use import Agent, BrowserSession, ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o", base_url=llm_url, api_key="bench", max_retries=0)
    steps: list[dict] = []
    current: dict = {}

    original_ainvoke = llm.ainvoke

    async def timed_ainvoke(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await original_ainvoke(*args, **kwargs)
        finally:
            current["llm_ms"] = current.get("llm_ms", 0.0) + (time.perf_counter() - t0) * 1000
            current["llm_calls"] = current.get("llm_calls", 0) + 1

    object.__setattr__(llm, "ainvoke", timed_ainvoke)

    session = BrowserSession(cdp_url=cdp_url, keep_alive=True)
    agent = Agent(
        task=command["task"],
        llm=llm,
        browser_session=session,
        use_vision=False,  # the same for all three agents: text prompts only
        use_judge=False,  # a separate LLM call after the run, not part of the loop
        initial_actions=[{"navigate": {"url": command["url"], "new_tab": False}}],
        directly_open_url=False,
        max_actions_per_step=1,  # one action per step, as the other two agents take
        enable_signal_handler=False,
        generate_gif=False,
    )
    original_step = agent.step

    async def timed_step(*args, **kwargs):
        current.clear()
        start = time.time()
        try:
            return await original_step(*args, **kwargs)
        finally:
            steps.append({"start": start, "end": time.time(), **current})

    agent.step = timed_step
    history = await agent.run(max_steps=command.get("max_steps", 8))
    await session.kill() if hasattr(session, "kill") else None
    return {
        "answer": history.final_result(),
        "success": history.is_successful(),
        "steps": steps,
        "errors": [e for e in history.errors() if e],
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cdp-url", required=True)
    parser.add_argument("--llm-url", required=True)
    args = parser.parse_args()
    try:
        from importlib import metadata

        import browser_use  # noqa: F401

        version = metadata.version("browser-use")
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
            send(await run_task(command, args.cdp_url, args.llm_url))
        except Exception as exc:
            traceback.print_exc()
            send({"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    asyncio.run(main())
