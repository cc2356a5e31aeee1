# ruff: noqa: T201  (a benchmark helper: it reports its address on stdout)
"""The scripted LLM for bench/agents.py: a real HTTP server speaking OpenAI chat completions that
answers at once, in each agent's own output format, with the next move of a fixed script.

    python bench/agent_llm_server.py --log FILE

It prints {"port": N} on its first line, then serves until stdin closes. Each agent gets its own
path prefix, so the server knows which format to answer in:

    /periscope/v1/chat/completions    Periscope's agent (AgentCompletion: state + one action)
    /browser-use/v1/chat/completions  browser-use (AgentOutput: thinking, memory, action list)
    /notte/v1/chat/completions        notte's agent (its own AgentCompletion shape)

The task text ends with a tag, "[bench run <run>/<task>]". The server finds it in the messages and
plays that task's script one move per request of that run: the k-th request gets the k-th move.
Moves name their element by what the page shows (an HTML id, a label); the server finds the id
each agent gave that element in its prompt, as a model would. The last move answers with a value
the server reads from the prompt (the page text the agent showed it), or says it could not see it.

Every request is appended to the log (JSON lines) after its answer has been sent: the agent, the
run, the move, the receive and send times (time.time() and perf_counter) and the request body, so
bench/agents.py can count the prompt tokens afterwards without this process doing that work while
an agent's loop runs.
"""

import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TAG = re.compile(r"\[bench run ([\w.-]+)/(\w+)\]")

# -- the scripts -----------------------------------------------------------------------------------
# A move is ("fill", target, value), ("click", target) or ("done", answer_key).
EMAIL, PASSWORD = "bench@example.com", "harbour-light-7"
SCRIPTS = {
    "login": [
        ("fill", "email", EMAIL),
        ("fill", "password", PASSWORD),
        ("click", "sign-in"),
        ("done", "session_state"),
    ],
    "controls": [
        ("fill", "qty-2", "12"),
        ("click", "restock-2"),
        ("done", "last_change"),
    ],
    "article": [("done", "headline")],
}

# How to read each answer off the prompt: the first group of the first match.
ANSWERS = {
    "session_state": re.compile(r"Session cookie:[\s\S]{0,40}?\b(present|absent)\b"),
    "last_change": re.compile(r"(Quantity for bin 2: \d+)"),
    "headline": re.compile(r"(The Lens That Lit the Atlantic)"),
}


# -- finding an element's id in each agent's prompt -----------------------------------------------
# Per target, the text that identifies its line in a prompt (any one of them).
TARGET_MARKERS = {
    "email": [r"\bid=email\b", r'id="email"', r'name="email"', r"\bEmail\b"],
    "password": [
        r"\bid=password\b",
        r'id="password"',
        r'name="password"',
        r'\btype="?password\b',
        r"\bPassword\b",
    ],
    "sign-in": [r"\bid=sign-in\b", r'id="sign-in"', r"\bSign in\b(?!\s*·)"],
    "qty-2": [r"\bid=qty-2\b", r'id="qty-2"', r'name="qty-2"', r"Quantity for bin 2\b"],
    "restock-2": [r"\bid=restock-2\b", r'id="restock-2"', r"Restock bin 2\b"],
}
# Per agent, the id at the start of an element's line.
ELEMENT_ID = {
    "browser-use": re.compile(r"^\s*\|?[\w()|]*\*?\[(\d+)\]<"),
    "notte": re.compile(r"^\s*[*-]?\s*([A-Z]{1,2}\d+)\b"),
    "periscope": re.compile(r"^\s*[*-]?\s*\[?([A-Z]{1,2}\d+)\]?\b"),
}


def prompt_text(body: dict) -> str:
    parts = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
    return "\n".join(parts)


def last_user_text(body: dict) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            return prompt_text({"messages": [message]})
    return ""


def find_element(agent: str, text: str, target: str) -> str | None:
    """The id this agent's prompt gives the element; the markers are tried in order of
    precision (an HTML id before a label), over the lines that start with an element id."""
    pattern = ELEMENT_ID[agent]
    lines = [(m.group(1), line) for line in text.splitlines() if (m := pattern.match(line))]
    for marker in TARGET_MARKERS[target]:
        for element_id, line in lines:
            if re.search(marker, line):
                return element_id
    return None


def read_answer(key: str, text: str) -> tuple[str, bool]:
    match = ANSWERS[key].search(text)
    if match:
        return match.group(1), True
    return f"not visible in the prompt ({key})", False


# -- answers in each agent's format -----------------------------------------------------------------


def periscope_action(move, text: str) -> dict:
    kind = move[0]
    if kind == "done":
        answer, _ = read_answer(move[1], text)
        return {"type": "completion", "success": True, "answer": answer}
    element = find_element("periscope", text, move[1])
    action = {"type": kind, "id": element or "?"}
    if kind == "fill":
        action["value"] = move[2]
    return action


def periscope_answer(move, text: str, k: int) -> dict:
    return {
        "state": {
            "previous_goal_status": "success" if k else "unknown",
            "previous_goal_eval": "The previous action worked." if k else "Nothing done yet.",
            "page_summary": "The page of the task.",
            "relevant_interactions": [],
            "memory": f"Step {k + 1} of the scripted task.",
            "next_goal": f"Do move {k + 1}.",
        },
        "action": periscope_action(move, text),
    }


def browser_use_answer(move, text: str, k: int, schema: dict | None) -> dict:
    kind = move[0]
    if kind == "done":
        answer, _ = read_answer(move[1], text)
        action = {"done": {"text": answer, "success": True}}
    else:
        element = find_element("browser-use", text, move[1])
        index = int(element) if element else 1
        action = (
            {"input": {"index": index, "text": move[2]}}
            if kind == "fill"
            else {"click": {"index": index}}
        )
    answer = {
        "thinking": "Follow the script.",
        "evaluation_previous_goal": "Success" if k else "Start",
        "memory": f"Step {k + 1} of the scripted task.",
        "next_goal": f"Do move {k + 1}.",
        "action": [action],
    }
    if schema and "properties" in schema:  # the output model forbids extra fields
        answer = {key: value for key, value in answer.items() if key in schema["properties"]}
    return answer


def notte_answer(move, text: str, k: int) -> dict:
    kind = move[0]
    if kind == "done":
        answer, _ = read_answer(move[1], text)
        action = {"type": "completion", "success": True, "answer": answer}
    else:
        element = find_element("notte", text, move[1])
        action = {"type": kind, "id": element or "?"}
        if kind == "fill":
            action["value"] = move[2]
    return {
        "state": {
            "previous_goal_status": "success" if k else "unknown",
            "previous_goal_eval": "The previous action worked." if k else "Nothing done yet.",
            "page_summary": "The page of the task.",
            "relevant_interactions": [],
            "memory": f"Step {k + 1} of the scripted task.",
            "next_goal": f"Do move {k + 1}.",
        },
        "action": action,
    }


def read_step(action: dict) -> dict:
    return {
        "state": {
            "previous_goal_status": "success",
            "previous_goal_eval": "The previous action worked.",
            "page_summary": "The page of the task.",
            "relevant_interactions": [],
            "memory": "The answer is not in the listing.",
            "next_goal": "Read the page's text.",
        },
        "action": action,
    }


# The agents whose listing of a page can leave out its text, and their action to read it.
READERS = {
    "periscope": lambda key: read_step(
        {"type": "scrape", "instructions": f"the {key.replace('_', ' ')}"}
    ),
    "notte": lambda key: read_step(
        {"type": "scrape", "instructions": f"the {key.replace('_', ' ')}"}
    ),
}


# -- the server -------------------------------------------------------------------------------------


class Script:
    def __init__(self, log_path: str):
        self.lock = threading.Lock()
        self.moves: dict[str, int] = {}  # run -> requests answered so far
        self.reads: set[str] = set()  # runs that were told to read the page
        self.log = open(log_path, "a", buffering=1)  # noqa: SIM115  (open for the server's life)

    def next_move(self, run: str, task: str) -> tuple[int, tuple]:
        with self.lock:
            k = self.moves.get(run, 0)
            self.moves[run] = k + 1
        script = SCRIPTS[task]
        return k, script[min(k, len(script) - 1)]

    def answer(self, agent: str, body: dict) -> tuple[dict, dict]:
        text = prompt_text(body)
        if agent == "notte" and "You are a validator of an agent" in text:
            # notte checks a completion with a second LLM call (an LLM as judge): approve it.
            tag = TAG.search(text)
            record = {"agent": agent, "run": tag.group(1) if tag else None, "kind": "validate"}
            return {"is_valid": True, "reason": "The answer is on the page."}, record
        tag = TAG.search(text)
        if not tag:
            raise ValueError("no [bench run ...] tag in the messages")
        run, task = tag.group(1), tag.group(2)
        k, move = self.next_move(run, task)
        if move[0] == "done" and agent in READERS and not read_answer(move[1], text)[1]:
            with self.lock:
                first_look = run not in self.reads
                self.reads.add(run)
                if first_look:
                    self.moves[run] -= 1  # the answer comes on the next request
            if first_look:
                # The value is not in this agent's listing of the page: a model would read the
                # page first, once, with the agent's own action for that.
                record = {"agent": agent, "run": run, "task": task, "move": k, "kind": "read"}
                return READERS[agent](move[1]), record
        schema = None
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            schema = response_format.get("json_schema", {}).get("schema")
        if agent == "browser-use":
            content = browser_use_answer(move, text, k, schema)
        elif agent == "notte":
            content = notte_answer(move, text, k)
        else:
            content = periscope_answer(move, text, k)
        seen = None
        if move[0] == "done":
            _, seen = read_answer(move[1], text)
        record = {
            "agent": agent,
            "run": run,
            "task": task,
            "move": k,
            "kind": move[0],
            "answer_seen_in_prompt": seen,
        }
        if move[0] != "done":
            record["element"] = (
                content.get("action", {}).get("id")
                if agent != "browser-use"
                else next(iter(content["action"][0].values())).get("index")
            )
        return content, record


def completion(body: dict, content: dict) -> dict:
    """The chat completion: as a tool call when the request offered tools, else as JSON content."""
    text = json.dumps(content)
    message: dict = {"role": "assistant", "content": text}
    finish = "stop"
    tools = body.get("tools")
    if tools:
        name = tools[0].get("function", {}).get("name", "answer")
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_bench",
                    "type": "function",
                    "function": {"name": name, "arguments": text},
                }
            ],
        }
        finish = "tool_calls"
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        # Fixed figures: the benchmark counts the real prompt tokens itself, from the log.
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def serve(log_path: str) -> None:
    script = Script(log_path)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real provider

        def do_POST(self):
            t_recv, c_recv = time.time(), time.perf_counter()
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            agent = self.path.strip("/").split("/", 1)[0]
            try:
                body = json.loads(raw)
                content, record = script.answer(agent, body)
                payload = json.dumps(completion(body, content)).encode()
                status = 200
            except Exception as exc:  # answer the agent with an error it can read
                body, record = {}, {"agent": agent, "error": f"{type(exc).__name__}: {exc}"}
                payload = json.dumps({"error": {"message": record["error"]}}).encode()
                status = 400
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            record.update(
                t_recv=t_recv,
                t_sent=time.time(),
                server_ms=(time.perf_counter() - c_recv) * 1000,
                path=self.path,
                body=body,
                request_bytes=len(raw),
            )
            script.log.write(json.dumps(record) + "\n")

        def do_GET(self):  # some clients list models first
            payload = json.dumps(
                {"object": "list", "data": [{"id": "scripted", "object": "model"}]}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    server.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    serve(parser.parse_args().log)
