"""The code that replays a run without Periscope: a standalone Playwright script, or the same
steps driven through notte-sdk (`as_workflow`), plus the replayed steps as JSON actions.

Only successful steps are replayed. Each action on an element is replayed by its resolved target
(the selector recorded when it ran, see browser/perception/target.py), never by an observe id,
which means nothing once the page has changed.

Everything in the script that came from a page or a model (URLs, selectors, names, typed text,
answers) is written as a Python literal through repr(), so no value can end a string or a
comment and add code. Vault placeholders are never resolved here: the Playwright script reads
each secret from an environment variable named in its header, and the notte-sdk script keeps the
placeholders for the server to fill from the vault. No secret is ever written into a script.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vaults_app.placeholders import BY_VALUE, VaultField, placeholder_field

# A fill value the server masked when it stored the step: what was typed is unknown here.
MASK = "********"
FILL_TYPES = frozenset({"fill", "multi_factor_fill", "fallback_fill"})
ELEMENT_TYPES = FILL_TYPES | {
    "click",
    "check",
    "select_dropdown_option",
    "upload_file",
    "download_file",
}
BROWSER_TYPES = frozenset({
    "goto", "goto_new_tab", "close_tab", "go_back", "go_forward", "reload", "switch_tab", "wait",
    "press_key", "scroll_up", "scroll_down", "captcha_solve", "form_fill", "help", "completion",
    "scrape", "email_read", "sms_read", "evaluate_js",
})  # fmt: skip
KNOWN_TYPES = ELEMENT_TYPES | BROWSER_TYPES  # Notte's action list
DEFAULT_TIMEOUT_MS = 15000
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Notte's action fields; any other key a model invents is dropped (it becomes a keyword argument).
ACTION_KEY = re.compile(r"(?!(?:and|or|not|if|else|in|is|for|lambda)$)[a-z][a-z0-9_]*")

ENV_BY_FIELD: dict[VaultField, str] = {
    VaultField.EMAIL: "PERISCOPE_VAULT_EMAIL",
    VaultField.USERNAME: "PERISCOPE_VAULT_USERNAME",
    VaultField.PASSWORD: "PERISCOPE_VAULT_PASSWORD",
    # The code changes every 30 seconds: the script computes it from the login's TOTP secret.
    VaultField.TOTP_CODE: "PERISCOPE_VAULT_TOTP_SECRET",
    VaultField.CARD_HOLDER: "PERISCOPE_VAULT_CARD_HOLDER_NAME",
    VaultField.CARD_NUMBER: "PERISCOPE_VAULT_CARD_NUMBER",
    VaultField.CARD_CVV: "PERISCOPE_VAULT_CARD_CVV",
    VaultField.CARD_EXPIRATION: "PERISCOPE_VAULT_CARD_EXPIRATION",
    VaultField.CARD_EXP_MONTH: "PERISCOPE_VAULT_CARD_EXP_MONTH",
    VaultField.CARD_EXP_YEAR: "PERISCOPE_VAULT_CARD_EXP_YEAR",
}
MEANING_BY_FIELD: dict[VaultField, str] = {
    VaultField.EMAIL: "the login's email",
    VaultField.USERNAME: "the login's username",
    VaultField.PASSWORD: "the login's password",
    VaultField.TOTP_CODE: "the login's TOTP secret (base32); the script computes the current code",
    VaultField.CARD_HOLDER: "the name on the card",
    VaultField.CARD_NUMBER: "the card number",
    VaultField.CARD_CVV: "the card's CVV",
    VaultField.CARD_EXPIRATION: "the card's expiry, MM/YY",
    VaultField.CARD_EXP_MONTH: "the card's expiry month",
    VaultField.CARD_EXP_YEAR: "the card's expiry year",
}

# Steps that only report (the answer, a call for a person) or need what a script cannot have.
NOT_REPLAYED = {
    "completion": "the run's final answer",
    "help": "the agent asked a person for help here",
    "captcha_solve": "captcha solving needs a person: solve it by hand when the script stops here",
    "email_read": "reading the persona's mail needs the Periscope server",
    "sms_read": "reading the persona's SMS needs the Periscope server",
}
UNKNOWN = "this script does not know the action"
NO_SELECTOR = "the step named its element by an observe id and recorded no selector"
REPORT_ONLY = frozenset({"completion", "help", "captcha_solve"})


@dataclass(frozen=True)
class ExportStep:
    action: dict[str, Any]
    target: dict[str, Any] | None
    url_before: str
    url_after: str
    success: bool


def workflow_code(
    steps: list[ExportStep],
    *,
    start_url: str | None,
    as_workflow: bool,
    vault_fields: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """{"python_script": str, "json_actions": list[dict]} for the run's successful steps.

    vault_fields: the environment variable to read for a vault field (keyed by the field's name,
    e.g. {"password": "SHOP_PASSWORD"}), instead of the PERISCOPE_VAULT_* defaults.
    """
    replayed = [step for step in steps if step.success]
    env = dict(ENV_BY_FIELD)
    for field, name in (vault_fields or {}).items():
        if not ENV_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not an environment variable name")
        env[VaultField(field)] = name
    actions = _json_actions(replayed, start_url)
    script = _SdkScript(env) if as_workflow else _PlaywrightScript(env)
    return {"python_script": script.render(replayed, start_url, actions), "json_actions": actions}


# -- the steps as actions: what either script replays ----------------------------------------


def _json_actions(steps: list[ExportStep], start_url: str | None) -> list[dict[str, Any]]:
    """Each replayed step as a Notte action that needs no observe id: the element's resolved
    selector instead of its id, the chosen option's label instead of an option id. Placeholders
    stay placeholders. The final answer and calls for a person are not actions to replay."""
    actions: list[dict[str, Any]] = []
    if start_url and not _starts_with_goto(steps, start_url):
        actions.append({"type": "goto", "url": start_url})
    for step in steps:
        action = _replayable(step)
        if action is not None and action.get("type") not in REPORT_ONLY:
            actions.append(action)
    return actions


def _starts_with_goto(steps: list[ExportStep], url: str) -> bool:
    return (
        bool(steps) and steps[0].action.get("type") == "goto" and steps[0].action.get("url") == url
    )


def _replayable(step: ExportStep) -> dict[str, Any] | None:
    if step.action.get("type") not in KNOWN_TYPES:
        return None
    action = {
        k: v
        for k, v in step.action.items()
        if k not in ("id", "category", "description", "text_label") and ACTION_KEY.fullmatch(str(k))
    }
    kind = action.get("type")
    if kind not in ELEMENT_TYPES:
        return action
    selector = _selector_of(step)
    if selector is None:
        return None  # only an observe id, and no target recorded: nothing finds the element again
    selector_text, frames = selector
    action["selector"] = (
        {
            "playwright_selector": selector_text,
            "css_selector": "",
            "xpath_selector": "",
            "in_iframe": True,
            "in_shadow_root": False,
            "iframe_parent_css_selectors": frames,
        }
        if frames
        else selector_text
    )
    if kind == "select_dropdown_option" and step.target and step.target.get("option"):
        action["value"] = step.target["option"]
    return action


def _selector_of(step: ExportStep) -> tuple[str, list[str]] | None:
    """The element's selector and the iframes leading to it: the target's, else the selector
    the action was given."""
    target = step.target
    if target and target.get("selector"):
        return str(target["selector"]), [str(f) for f in target.get("frame_selectors") or []]
    given = step.action.get("selector")
    if isinstance(given, str) and given:
        return (f"text={given[1:]}" if given.startswith("~") else given), []
    if isinstance(given, dict):
        text = (
            given.get("playwright_selector")
            or given.get("css_selector")
            or given.get("xpath_selector")
        )
        if text:
            if given.get("xpath_selector") == text:
                text = f"xpath={text}"
            return str(text), [str(f) for f in given.get("iframe_parent_css_selectors") or []]
    return None


# -- what both scripts share -------------------------------------------------------------------


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str, indent: int = 0) -> None:
        self.lines.extend(("    " * indent + line) if line else "" for line in lines)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _inline(text: Any, limit: int = 200) -> str:
    """Text from a page or a model, for a comment: repr() escapes every line break, so it stays
    on its comment's line."""
    return repr(str(text)[:limit])


def _step_title(number: int, step: ExportStep) -> str:
    kind = str(step.action.get("type"))
    title = f"# Step {number}: {kind if ACTION_KEY.fullmatch(kind) else _inline(kind, 40)}"
    target = step.target or {}
    if target.get("role") and target.get("name"):
        title += f" on the {_inline(target['role'], 40)} named {_inline(target['name'], 80)}"
    return title


class _Secrets:
    """The environment variables a script reads, each with what it holds, in order of first use."""

    def __init__(self, env: dict[VaultField, str]):
        self.env = env
        self.names: dict[str, str] = {}
        self.masked = 0
        self.totp = False

    def masked_value(self) -> str:
        self.masked += 1
        name = f"PERISCOPE_VALUE_{self.masked}"
        self.names[name] = "a value the run typed that the server stored masked"
        return f"os.environ[{name!r}]"

    def vault_value(self, field: VaultField) -> str:
        name = self.env[field]
        self.names.setdefault(name, MEANING_BY_FIELD[field])
        if field == VaultField.TOTP_CODE:
            self.totp = True
            return f"totp_now(os.environ[{name!r}])"
        return f"os.environ[{name!r}]"

    def header(self, intro: str) -> list[str]:
        if not self.names:
            return []
        width = max(len(name) for name in self.names)
        return [
            "",
            intro,
            *(f"    {name.ljust(width)}  {meaning}" for name, meaning in self.names.items()),
        ]


# -- the standalone Playwright script ------------------------------------------------------------


class _PlaywrightScript:
    def __init__(self, env: dict[VaultField, str]):
        self.secrets = _Secrets(env)
        self.uses_files = self.uses_downloads = self.uses_put = False

    def render(
        self, steps: list[ExportStep], start_url: str | None, actions: list[dict[str, Any]]
    ) -> str:
        body = _Lines()
        if start_url and not _starts_with_goto(steps, start_url):
            body.add(f"page.goto({start_url!r})", "page.wait_for_load_state()", indent=2)
        for number, step in enumerate(steps, start=1):
            body.add(
                *[""][: len(body.lines)], _step_title(number, step), *self._step(step), indent=2
            )
        return self._header() + self._preamble() + body.text() + self._footer()

    # -- one step ----------------------------------------------------------------------------

    def _step(self, step: ExportStep) -> list[str]:
        action = step.action
        kind = action.get("type")
        if kind in ELEMENT_TYPES:
            selector = _selector_of(step)
            if selector is None:
                return [f"# not replayed: {NO_SELECTOR}"]
            return self._on_element(step, _locator(*selector))
        if kind == "form_fill":
            return self._form_fill(step)
        if kind in NOT_REPLAYED:
            lines = [f"# not replayed: {NOT_REPLAYED[kind]}"]
            lines += [
                f"# {key}: {_inline(action[key], 300)}"
                for key in ("answer", "reason")
                if action.get(key)
            ]
            return lines
        handler = getattr(self, f"_do_{kind}", None)
        if handler is None:
            return [f"# not replayed: {UNKNOWN} {_inline(kind, 40)}"]
        return handler(action)

    def _on_element(self, step: ExportStep, locator: str) -> list[str]:
        action, kind = step.action, step.action["type"]
        if kind == "click":
            return [f"{locator}.click()", "page.wait_for_load_state()"]
        if kind in FILL_TYPES:
            value = self._value(action.get("value"), None)
            if kind == "fallback_fill" or action.get("clear_before_fill") is False:
                lines = [f'{locator}.fill("")'] if action.get("clear_before_fill", True) else []
                lines += [f"{locator}.focus()", f"page.keyboard.type({value})"]
            else:
                lines = [f"{locator}.fill({value})"]
            if action.get("press_enter"):
                lines += ['page.keyboard.press("Enter")', "page.wait_for_load_state()"]
            return lines
        if kind == "check":
            return [f"{locator}.set_checked({bool(action.get('value'))!r})"]
        if kind == "select_dropdown_option":
            option = (step.target or {}).get("option") or action.get("value")
            return [f"{locator}.select_option(label={str(option)!r})", "page.wait_for_load_state()"]
        if kind == "upload_file":
            self.uses_files = True
            name = str(action.get("file_path", "")).rsplit("/", 1)[-1]
            return [f"{locator}.set_input_files(os.path.join(UPLOADS, {name!r}))"]
        self.uses_downloads = True  # download_file
        return [
            "with page.expect_download() as download:",
            f"    {locator}.click()",
            "save_download(download.value)",
        ]

    def _form_fill(self, step: ExportStep) -> list[str]:
        values = step.action.get("value") if isinstance(step.action.get("value"), dict) else {}
        fields = (step.target or {}).get("fields") or {}
        lines = []
        for key, value in values.items():
            field = fields.get(key) or {}
            if not field.get("selector"):
                lines.append(
                    f"# {_inline(key, 40)}: no such field on the page when the run filled it"
                )
                continue
            self.uses_put = True
            locator = _locator(
                str(field["selector"]), [str(f) for f in field.get("frame_selectors") or []]
            )
            lines.append(f"put({locator}, {self._value(value, str(key))})")
        return lines or ["# not replayed: the form fill found no field"]

    def _value(self, value: Any, form_key: str | None) -> str:
        """A typed value as Python source: an environment read for a secret, else a literal."""
        text = "" if value is None else str(value)
        if text == MASK:
            return self.secrets.masked_value()
        field = placeholder_field(text, form_key) if text in BY_VALUE else None
        return repr(text) if field is None else self.secrets.vault_value(field)

    def _do_goto(self, action):
        return [f"page.goto({str(action.get('url'))!r})", "page.wait_for_load_state()"]

    def _do_goto_new_tab(self, action):
        return ["page = context.new_page()", *self._do_goto(action)]

    def _do_switch_tab(self, action):
        return [
            f"page = context.pages[{_int(action.get('tab_index'), 0)}]",
            "page.bring_to_front()",
        ]

    def _do_close_tab(self, action):
        return ["page.close()", "page = context.pages[-1] if context.pages else context.new_page()"]

    def _do_go_back(self, action):
        return ["page.go_back()"]

    def _do_go_forward(self, action):
        return ["page.go_forward()"]

    def _do_reload(self, action):
        return ["page.reload()"]

    def _do_wait(self, action):
        return [f"page.wait_for_timeout({max(0, min(_int(action.get('time_ms'), 0), 30000))})"]

    def _do_scroll_down(self, action, sign: int = 1):
        amount = _int(action.get("amount"), None)
        return [f"page.evaluate(SCROLL, [{amount!r}, {sign}])"]

    def _do_scroll_up(self, action):
        return self._do_scroll_down(action, -1)

    def _do_press_key(self, action):
        return [f"page.keyboard.press({str(action.get('key'))!r})", "page.wait_for_load_state()"]

    def _do_scrape(self, action):
        selector = action.get("selector")
        scope = (
            f"page.locator({selector!r})"
            if isinstance(selector, str) and selector
            else 'page.locator("body")'
        )
        lines = [f"print({scope}.inner_text())"]
        if action.get("instructions") or action.get("response_format"):
            lines.insert(
                0,
                "# the run extracted structured data here with a model; this prints the page's text",
            )
        return lines

    def _do_evaluate_js(self, action):
        return [f"print(page.evaluate({str(action.get('code', ''))!r}))"]

    # -- around the steps ----------------------------------------------------------------------

    def _header(self) -> str:
        lines = [
            '"""Replays a browser run recorded by Periscope, with Playwright alone (no server needed).',
            "",
            "Run it with:  pip install playwright  &&  python this_script.py",
            "",
            "Browser: Chromium, headless. The executable is PERISCOPE_CHROMIUM or CHROMIUM when set",
            "(for example /usr/bin/chromium), else Playwright's own (`playwright install chromium`).",
            *self.secrets.header(
                "Secrets are never written in this script. Set these environment variables first:"
            ),
        ]
        if self.uses_files:
            lines += [
                "",
                "Files to upload are read from the folder PERISCOPE_UPLOADS (default: the current one).",
            ]
        if self.uses_downloads:
            lines += [
                "",
                "Downloads are saved in the folder PERISCOPE_DOWNLOADS (default: ./downloads).",
            ]
        return "\n".join([*lines, '"""', "", ""])

    def _preamble(self) -> str:
        out = _Lines()
        out.add(
            "import os",
            "import sys",
            "",
            "from playwright.sync_api import sync_playwright",
            "",
            f"TIMEOUT_MS = {DEFAULT_TIMEOUT_MS}",
            f"SECRETS = {list(self.secrets.names)!r}",
            'SCROLL = "([a, s]) => window.scrollBy(0, s * (a ?? window.innerHeight))"',
        )
        if self.uses_files:
            out.add('UPLOADS = os.environ.get("PERISCOPE_UPLOADS", ".")')
        if self.uses_downloads:
            out.add('DOWNLOADS = os.environ.get("PERISCOPE_DOWNLOADS", "downloads")')
        out.add(
            "",
            "",
            "def element(page, selector, frames=()):",
            '    """The element a step acted on: its recorded selector, inside its iframes if any."""',
            "    scope = page",
            "    for frame in frames:",
            "        scope = scope.frame_locator(frame)",
            "    return scope.locator(selector)",
        )
        if self.uses_put:
            out.add(
                "",
                "",
                "def put(field, value):",
                '    """Fill a form field, or choose the option of that name in a select."""',
                '    if field.evaluate("e => e.localName") == "select":',
                "        field.select_option(label=value)",
                "    else:",
                "        field.fill(value)",
            )
        if self.uses_downloads:
            out.add(
                "",
                "",
                "def save_download(download):",
                "    os.makedirs(DOWNLOADS, exist_ok=True)",
                '    path = os.path.join(DOWNLOADS, os.path.basename(download.suggested_filename) or "download")',
                "    download.save_as(path)",
                '    print("downloaded", path)',
            )
        if self.secrets.totp:
            out.add("", "", *TOTP_FUNCTION)
        out.add(
            "",
            "",
            "def main():",
            "    missing = [name for name in SECRETS if not os.environ.get(name)]",
            "    if missing:",
            '        sys.exit("set these environment variables first: " + ", ".join(missing))',
            '    executable = os.environ.get("PERISCOPE_CHROMIUM") or os.environ.get("CHROMIUM") or None',
            "    with sync_playwright() as playwright:",
            "        browser = playwright.chromium.launch(headless=True, executable_path=executable)",
            "        context = browser.new_context()",
            "        context.set_default_timeout(TIMEOUT_MS)",
            "        page = context.new_page()",
        )
        return out.text()

    def _footer(self) -> str:
        out = _Lines()
        out.add("", 'print("replayed; now on", page.url)', "browser.close()", indent=2)
        out.add("", "", 'if __name__ == "__main__":', "    main()")
        return out.text()


def _int(value: Any, default: int | None) -> int | None:
    if isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


def _locator(selector: str, frames: list[str]) -> str:
    return f"element(page, {selector!r}, {frames!r})" if frames else f"element(page, {selector!r})"


TOTP_FUNCTION = (
    "def totp_now(secret):",
    '    """The current 6-digit TOTP code (30 s steps, SHA-1) of a base32 secret."""',
    "    import base64",
    "    import hashlib",
    "    import hmac",
    "    import struct",
    "    import time",
    "",
    '    secret = secret.replace(" ", "").upper()',
    '    key = base64.b32decode(secret + "=" * (-len(secret) % 8))',
    '    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()',
    "    offset = digest[-1] & 0x0F",
    '    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF',
    '    return "%06d" % (number % 1000000)',
)


# -- the notte-sdk script ----------------------------------------------------------------------------


class _SdkScript:
    """The same steps sent to a server through notte-sdk: the json actions, one execute each.
    Placeholders stay as they are: the server fills them from the session's vault."""

    def __init__(self, env: dict[VaultField, str]):
        self.secrets = _Secrets(env)

    def render(
        self, steps: list[ExportStep], start_url: str | None, actions: list[dict[str, Any]]
    ) -> str:
        body = _Lines()
        if start_url and not _starts_with_goto(steps, start_url):
            body.add(f"session.execute(type='goto', url={start_url!r})", indent=2)
        for number, step in enumerate(steps, start=1):
            body.add(
                *[""][: len(body.lines)], _step_title(number, step), *self._step(step), indent=2
            )
        uses_vault = any(_has_placeholder(action) for action in actions)
        session_args = 'vault_id=os.environ["PERISCOPE_VAULT_ID"]' if uses_vault else ""
        if uses_vault:
            self.secrets.names["PERISCOPE_VAULT_ID"] = (
                "the vault whose credentials the server types in"
            )
        head = _Lines()
        head.add(
            '"""Replays a browser run recorded by Periscope through notte-sdk, on a Periscope server.',
            "",
            "Run it with:  pip install notte-sdk  &&  python this_script.py",
            "",
            "Set NOTTE_API_KEY (an API key of the team) and NOTTE_API_URL (the server's API, for",
            "example http://HOST:PORT/api). Each element is found by the selector recorded when the run",
            "acted on it. Vault placeholders stay as they are: the server types the secrets from the",
            "session's vault, so they never reach this script.",
            *self.secrets.header("Set these environment variables too:"),
            '"""',
            "",
            "import os",
            "",
            "from notte_sdk import NotteClient",
            "",
            "",
            "def main():",
            "    client = NotteClient()",
            f"    with client.Session({session_args}) as session:",
        )
        if not body.lines:
            body.add("pass", indent=2)
        tail = _Lines()
        tail.add("", "", 'if __name__ == "__main__":', "    main()")
        return head.text() + body.text() + tail.text()

    def _step(self, step: ExportStep) -> list[str]:
        action = _replayable(step)
        kind = step.action.get("type")
        if kind not in KNOWN_TYPES:
            return [f"# not replayed: {UNKNOWN} {_inline(kind, 40)}"]
        if action is None:
            return [f"# not replayed: {NO_SELECTOR}"]
        if kind in REPORT_ONLY:
            lines = [f"# not replayed: {NOT_REPLAYED[kind]}"]
            return lines + [
                f"# {k}: {_inline(action[k], 300)}" for k in ("answer", "reason") if action.get(k)
            ]
        arguments = ", ".join(f"{key}={self._literal(key, value)}" for key, value in action.items())
        if kind in ("scrape", "evaluate_js", "email_read", "sms_read"):
            return [
                f"result = session.execute({arguments})",
                'print(result.data.markdown if result.data else "")',
            ]
        return [f"session.execute({arguments})"]

    def _literal(self, key: str, value: Any) -> str:
        if key == "value" and value == MASK:
            return self.secrets.masked_value()
        return _python(value)


def _has_placeholder(action: dict[str, Any]) -> bool:
    value = action.get("value")
    values = value.values() if isinstance(value, dict) else [value]
    return action.get("type") in FILL_TYPES | {"form_fill"} and any(
        isinstance(v, str) and v in BY_VALUE for v in values
    )


def _python(value: Any) -> str:
    """A JSON value as a Python literal (repr of each string: nothing in it can become code)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_python(str(k))}: {_python(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_python(v) for v in value) + "]"
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float):
        return (
            repr(value) if value == value and value not in (float("inf"), float("-inf")) else "None"
        )
    return repr(str(value))
