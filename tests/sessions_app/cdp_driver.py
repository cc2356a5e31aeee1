"""A Playwright client in a process of its own, attached to a session with connect_over_cdp.

The tests run it as `python -m tests.sessions_app.cdp_driver` and drive it over stdin/stdout, one
JSON object per line each way, so that it is a separate program speaking to the server only
through the CDP URL, as a user's script would. `CdpDriver` is the tests' side of it.

Commands: connect {url, headers?}, pages, click {page, selector}, text {page, selector},
value {page, selector}, fill {page, selector, value}, new_page {url}, close_page {page}, goto {page, url},
evaluate {page, expression}, cdp {page, method, params} (through Playwright's CDPSession),
disconnect. Every answer is {"ok": ...} or {"error": "..."}.
"""

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class CdpDriver:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sessions_app.cdp_driver"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __call__(self, op: str, **args: Any) -> Any:
        """The command's answer; a failed command raises DriverError with Playwright's message."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise DriverError(
                f"the driver died: {self.process.stderr.read() if self.process.stderr else ''}"
            )
        answer = json.loads(line)
        if "error" in answer:
            raise DriverError(answer["error"])
        return answer["ok"]

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(DriverError):
                self("quit")
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


class DriverError(Exception):
    pass


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _main() -> None:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = None

    def pages():
        return (
            [{"url": p.url, "title": p.title()} for p in browser.contexts[0].pages]
            if browser
            else []
        )

    def page(args):
        return browser.contexts[0].pages[args.get("page", 0)]

    for line in sys.stdin:
        args = json.loads(line)
        op = args.pop("op")
        try:
            if op == "quit":
                _answer({"ok": None})
                break
            if op == "connect":
                browser = playwright.chromium.connect_over_cdp(
                    args["url"], headers=args.get("headers"), timeout=20000
                )
                result: Any = {"contexts": len(browser.contexts), "pages": pages()}
            elif op == "pages":
                browser.contexts[
                    0
                ].cookies()  # a round trip: the sync API hands over pending events
                result = {"contexts": len(browser.contexts), "pages": pages()}
            elif op == "click":
                page(args).click(args["selector"], timeout=10000)
                result = None
            elif op == "text":
                result = page(args).text_content(args["selector"], timeout=10000)
            elif op == "value":
                result = page(args).input_value(args["selector"], timeout=10000)
            elif op == "fill":
                page(args).fill(args["selector"], args["value"], timeout=10000)
                result = None
            elif op == "new_page":
                new = browser.contexts[0].new_page()
                new.goto(args["url"], timeout=10000)
                result = browser.contexts[0].pages.index(new)
            elif op == "close_page":
                page(args).close()
                result = None
            elif op == "goto":
                page(args).goto(args["url"], timeout=10000)
                result = page(args).url
            elif op == "evaluate":
                result = page(args).evaluate(args["expression"])
            elif op == "cdp":
                session = browser.contexts[0].new_cdp_session(page(args))
                result = session.send(args["method"], args.get("params") or {})
                session.detach()
            elif op == "disconnect":
                browser.close()  # connect_over_cdp: ends the connection, not the browser
                browser = None
                result = None
            else:
                raise ValueError(f"unknown op {op}")
            _answer({"ok": result})
        except Exception as exc:
            _answer({"error": f"{type(exc).__name__}: {exc}"})
    playwright.stop()


if __name__ == "__main__":
    _main()
