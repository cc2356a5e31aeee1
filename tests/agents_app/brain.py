"""A scripted model for the fake LLM server: it reads the prompt the agent sends (the page
listing, the vault placeholders, the previous steps) and answers the way a model would, so the
loop is exercised for real."""

import json
import re
from dataclasses import dataclass

UNTRUSTED = "untrusted_page_content"


@dataclass
class Prompt:
    text: str  # the first user message: task, vault, history, page
    last: str  # the last message (a repair request, after an invalid answer)
    calls: int  # messages in the request (3 or more: a repair)

    @classmethod
    def of(cls, messages: list[dict]) -> "Prompt":
        def text(message) -> str:
            content = message.get("content") or ""
            if isinstance(content, list):
                return " ".join(
                    part.get("text", "") for part in content if part.get("type") == "text"
                )
            return content

        users = [m for m in messages if m["role"] == "user"]
        return cls(text=text(users[0]), last=text(messages[-1]), calls=len(messages))

    @property
    def page(self) -> str:
        match = re.search(rf"<{UNTRUSTED}>\n(.*?)\n</{UNTRUSTED}>", self.text, re.S)
        return match.group(1) if match else ""

    @property
    def url(self) -> str:
        match = re.search(r"^URL: (.*)$", self.page, re.M)
        return match.group(1) if match else ""

    def element(self, fragment: str) -> str | None:
        """The id of the first listed element whose rendering holds `fragment`."""
        for line in self.page.splitlines():
            ident, sep, rendering = line.partition("[:]")
            if sep and ident != "_" and fragment in rendering:
                return ident
        return None

    def texts(self) -> list[str]:
        return [
            line.partition("[:]")[2] for line in self.page.splitlines() if line.startswith("_[:]")
        ]

    def placeholder(self, field: str) -> str:
        match = re.search(rf'{field} "([^"]+)"', self.text)
        assert match, f"the prompt names no placeholder for {field}"
        return match.group(1)

    def done(self) -> list[dict]:
        """The actions of the previous steps, as the prompt lists them."""
        return [
            json.loads(m) for m in re.findall(r"\| action: (\{.*?\}) \| (?:ok|failed)", self.text)
        ]

    def done_ok(self) -> list[dict]:
        rows = re.findall(r"\| action: (\{.*?\}) \| (ok|failed)", self.text)
        return [json.loads(action) for action, outcome in rows if outcome == "ok"]

    @property
    def wants_json(self) -> bool:
        return "matching this JSON schema" in self.text


def step(action: dict, *, goal: str = "", memory: str = "") -> str:
    return json.dumps(
        {
            "state": {
                "previous_goal_status": "success",
                "previous_goal_eval": "as planned",
                "page_summary": "a page of the test site",
                "relevant_interactions": [],
                "memory": memory or "working on it",
                "next_goal": goal or action["type"],
            },
            "action": action,
        }
    )


def done(answer: str, *, success: bool = True) -> str:
    return step({"type": "completion", "success": success, "answer": answer}, goal="answer")


def login_brain(site_url: str):
    """Log in on the test site with the vault's placeholders, then answer with the heading of
    the page that follows (as JSON when a response format is asked for)."""

    def answer(messages) -> str:
        p = Prompt.of(messages)
        if "/account.html" in p.url:
            heading = p.texts()[0]
            if p.wants_json:
                return done(json.dumps({"heading": heading, "signed_in": True}))
            return done(f"Signed in; the page greets with {heading!r}")
        if "/login.html" not in p.url:
            return step({"type": "goto", "url": f"{site_url}/login.html"})
        filled = {a.get("value") for a in p.done_ok() if a["type"] == "fill"}
        email, password = p.placeholder("email"), p.placeholder("password")
        if email not in filled:
            return step({"type": "fill", "id": p.element('name="email"'), "value": email})
        if password not in filled:
            return step({"type": "fill", "id": p.element('name="password"'), "value": password})
        return step({"type": "click", "id": p.element('type="submit"')}, goal="sign in")

    return answer
