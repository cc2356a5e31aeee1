"""Real HTTP servers on 127.0.0.1 standing in for providers outside this machine: an
OpenAI-compatible LLM and a SearXNG-compatible search endpoint. Both record what they receive."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class _Server(ThreadingHTTPServer):
    # A slow answer must not hold up the server's shutdown, nor a client that gave up on it.
    daemon_threads = True
    block_on_close = False


class _JsonServer:
    """Answers every request with `self.respond(method, path, body)`: a dict as JSON, bytes as
    they are (a provider answering nonsense), with the status `self.status`."""

    status = 200

    def __init__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body):
                answer = owner.respond(self.command, self.path, body)
                payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                with contextlib.suppress(OSError):  # the client stopped waiting (a timeout test)
                    self.send_response(owner.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            def do_GET(self):
                self._answer(None)

            def do_POST(self):
                self._answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

            def log_message(self, *args):
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def respond(self, method: str, path: str, body):
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


class FakeLLM(_JsonServer):
    """An OpenAI-compatible chat-completions server answering from the messages it receives.

    `answer(messages) -> str` gives the assistant's content (a dict or list is sent as its JSON).
    A request that offers tools is answered with a call of the first tool, the content as its
    arguments, as servers do when the tool choice is forced. `delay(messages) -> seconds` makes
    an answer slow. Usage figures count about four characters per token, as tokenizers roughly do.
    """

    def __init__(self, answer, *, delay=None):
        super().__init__()
        self.answer = answer
        self.delay = delay
        self.requests: list[dict] = []
        self.base_url = f"{self.url}/v1"
        self._lock = threading.Lock()

    def respond(self, method, path, body):
        with self._lock:
            self.requests.append({"path": path, "body": body})
        messages = body["messages"]
        if self.delay is not None and (seconds := self.delay(messages)):
            time.sleep(seconds)
        content = self.answer(messages)
        if not isinstance(content, str):
            content = json.dumps(content)
        message: dict = {"role": "assistant", "content": content}
        finish = "stop"
        if body.get("tools"):
            name = body["tools"][0]["function"]["name"]
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{len(self.requests)}",
                        "type": "function",
                        "function": {"name": name, "arguments": content},
                    }
                ],
            }
            finish = "tool_calls"
        prompt_tokens = max(1, len(json.dumps(messages)) // 4)
        completion_tokens = max(1, len(content) // 4)
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def prompts(self) -> list[str]:
        """Every prompt received, as text (images left out), for checks across all of them."""
        texts = []
        for request in self.requests:
            for message in request["body"]["messages"]:
                content = message.get("content")
                if isinstance(content, list):
                    content = " ".join(
                        part.get("text", "") for part in content if part.get("type") == "text"
                    )
                texts.append(content or "")
        return texts


class FakeSearch(_JsonServer):
    """A SearXNG JSON endpoint answering `results`; or, to play a failing one, `answer` (a dict
    or raw bytes) with `status`."""

    def __init__(self, results=(), *, status: int = 200, answer: dict | bytes | None = None):
        super().__init__()
        self.results = list(results)
        self.status = status
        self.answer = answer
        self.queries: list[str] = []

    def respond(self, method, path, body):
        self.queries.append(parse_qs(urlparse(path).query).get("q", [""])[0])
        return self.answer if self.answer is not None else {"results": self.results}
