"""Real HTTP servers on 127.0.0.1 standing in for providers outside this machine: an
OpenAI-compatible LLM and a SearXNG-compatible search endpoint. Both record what they receive."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class _JsonServer:
    """Answers every request with `self.respond(method, path, body) -> dict` as JSON."""

    def __init__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body):
                payload = json.dumps(owner.respond(self.command, self.path, body)).encode()
                self.send_response(200)
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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
    def __init__(self, answer):
        """`answer(messages) -> str` gives the assistant's content for each chat completion."""
        super().__init__()
        self.answer = answer
        self.requests: list[dict] = []
        self.base_url = f"{self.url}/v1"

    def respond(self, method, path, body):
        self.requests.append({"path": path, "body": body})
        return {
            "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": self.answer(body["messages"])}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }


class FakeSearch(_JsonServer):
    def __init__(self, results):
        super().__init__()
        self.results = results
        self.queries: list[str] = []

    def respond(self, method, path, body):
        self.queries.append(parse_qs(urlparse(path).query).get("q", [""])[0])
        return {"results": self.results}
