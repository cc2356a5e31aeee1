"""agents_app/export.py as pure logic: what the exported scripts and JSON actions hold, that
nothing from a page or a model can become code in them, that no secret or placeholder is written
into the Playwright script, and that the notte-sdk variant calls only what notte-sdk 1.8.28 has.
The replay in a real browser is in test_export_replay.py."""

import ast
import inspect
import time

import pytest

from agents_app.export import ExportStep, workflow_code
from vaults_app import totp

START = "https://shop.example/login"
NASTY = 'a"b\'c\n"""\'\'\'\\ \u2028 ); __import__("os").system("touch /tmp/pwned") #'


def target(selector, role=None, name=None, frames=(), **extra):
    return {
        "selector": selector,
        "role": role,
        "name": name,
        "frame_url": "https://pay.example/" if frames else None,
        "frame_selectors": list(frames),
        **extra,
    }


def step(action, tgt=None, *, success=True, url_after=""):
    return ExportStep(
        action=action, target=tgt, url_before="", url_after=url_after, success=success
    )


LOGIN = [
    step({"type": "goto", "url": START}),
    step(
        {"type": "fill", "id": "I1", "value": "user@example.org"},
        target("#email", "textbox", "Email"),
    ),
    step(
        {"type": "fill", "id": "I2", "value": "mycoolpassword"},
        target("#password", "textbox", "Password"),
    ),
    step({"type": "click", "id": "B9"}, target("#nope"), success=False),
    step(
        {"type": "click", "id": "B1"},
        target('internal:role=button[name="Sign in"s]', "button", "Sign in"),
    ),
    step({"type": "completion", "success": True, "answer": "Logged in"}),
]


def script_of(steps, **options):
    options.setdefault("start_url", START)
    options.setdefault("as_workflow", False)
    return workflow_code(steps, **options)


def constants(source: str) -> list[str]:
    return [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)]


def called_names(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else getattr(func, "attr", ""))
    return names


def test_the_playwright_script_replays_successful_steps_by_their_targets():
    code = script_of(LOGIN)
    script = code["python_script"]
    compile(script, "replay.py", "exec")
    assert "from playwright.sync_api import sync_playwright" in script
    assert "element(page, '#email').fill(os.environ['PERISCOPE_VAULT_EMAIL'])" in script
    assert "element(page, '#password').fill(os.environ['PERISCOPE_VAULT_PASSWORD'])" in script
    assert "element(page, 'internal:role=button[name=\"Sign in\"s]').click()" in script
    assert "#nope" not in script  # a failed step is not replayed
    assert script.count(f"page.goto({START!r})") == 1  # the start is the run's first goto
    assert "headless=True" in script and "PERISCOPE_CHROMIUM" in script
    header = ast.get_docstring(ast.parse(script))
    assert "PERISCOPE_VAULT_EMAIL" in header and "PERISCOPE_VAULT_PASSWORD" in header
    assert "B1" not in script and "I1" not in script  # observe ids mean nothing on a fresh page


def test_no_placeholder_or_secret_is_written_into_the_playwright_script():
    script = script_of(LOGIN)["python_script"]
    for placeholder in ("user@example.org", "mycoolpassword"):
        assert placeholder not in script
    masked = script_of([step({"type": "fill", "value": "********"}, target("#code"))])[
        "python_script"
    ]
    assert "os.environ['PERISCOPE_VALUE_1']" in masked and "********" not in masked


def test_json_actions_name_elements_by_selector_and_keep_placeholders():
    actions = script_of(LOGIN)["json_actions"]
    assert actions == [
        {"type": "goto", "url": START},
        {"type": "fill", "value": "user@example.org", "selector": "#email"},
        {"type": "fill", "value": "mycoolpassword", "selector": "#password"},
        {"type": "click", "selector": 'internal:role=button[name="Sign in"s]'},
    ]
    later_start = script_of(LOGIN[1:])["json_actions"]
    assert later_start[0] == {"type": "goto", "url": START}
    assert script_of(LOGIN, start_url=None)["json_actions"][0] == {"type": "goto", "url": START}


def test_options_frames_and_form_fills():
    steps = [
        step(
            {"type": "select_dropdown_option", "id": "O3", "value": "O3"},
            target("#country", "combobox", "Country", option="Japan"),
        ),
        step(
            {"type": "fill", "id": "I4", "value": "4242 4242 4242 4242"},
            target("#cc", "textbox", "Card number", frames=["#pay"]),
        ),
        step(
            {
                "type": "form_fill",
                "value": {
                    "email": "user@example.org",
                    "cc_exp_month": "[CardExpirationPlaceholder]",
                    "city": "Lyon",
                },
            },
            target(
                None, fields={"email": target("#e"), "cc_exp_month": target("#m", frames=["#pay"])}
            ),
        ),
        step({"type": "check", "selector": "#terms", "value": True}, None),
    ]
    code = script_of(steps)
    script = code["python_script"]
    assert "element(page, '#country').select_option(label='Japan')" in script
    assert (
        "element(page, '#cc', ['#pay']).fill(os.environ['PERISCOPE_VAULT_CARD_NUMBER'])" in script
    )
    assert "put(element(page, '#e'), os.environ['PERISCOPE_VAULT_EMAIL'])" in script
    assert (
        "put(element(page, '#m', ['#pay']), os.environ['PERISCOPE_VAULT_CARD_EXP_MONTH'])" in script
    )
    assert "# 'city': no such field on the page when the run filled it" in script
    assert (
        "element(page, '#terms').set_checked(True)" in script
    )  # a selector given without a target
    actions = code["json_actions"]
    assert actions[1] == {
        "type": "select_dropdown_option",
        "value": "Japan",
        "selector": "#country",
    }
    assert actions[2]["selector"]["playwright_selector"] == "#cc"
    assert actions[2]["selector"]["iframe_parent_css_selectors"] == ["#pay"]
    assert actions[3]["value"]["cc_exp_month"] == "[CardExpirationPlaceholder]"


def test_every_action_of_the_contract_becomes_a_line_or_a_comment_saying_why():
    steps = [
        step({"type": "goto_new_tab", "url": "https://b.example/"}),
        step({"type": "switch_tab", "tab_index": 0}),
        step({"type": "close_tab"}),
        step({"type": "go_back"}),
        step({"type": "go_forward"}),
        step({"type": "reload"}),
        step({"type": "wait", "time_ms": 500}),
        step({"type": "scroll_down", "amount": 300}),
        step({"type": "scroll_up", "amount": None}),
        step({"type": "press_key", "key": "Enter"}),
        step({"type": "scrape", "only_main_content": True}),
        step({"type": "evaluate_js", "code": "document.title"}),
        step({"type": "upload_file", "id": "B2", "file_path": "report.csv"}, target("#file")),
        step({"type": "download_file", "id": "L2"}, target("#report")),
        step({"type": "multi_factor_fill", "id": "I1", "value": "999779"}, target("#otp")),
        step({"type": "fallback_fill", "id": "I2", "value": "plain text"}, target("#note")),
        step({"type": "captcha_solve", "captcha_type": "recaptcha"}),
        step({"type": "help", "reason": "a captcha"}),
        step({"type": "email_read", "limit": 5}),
        step({"type": "sms_read"}),
        step({"type": "teleport", "where": "mars"}),
        step({"type": "click", "id": "B7"}),  # an observe id and no target: cannot be found again
        step({"type": "completion", "success": True, "answer": "done"}),
    ]
    script = script_of(steps)["python_script"]
    compile(script, "replay.py", "exec")
    for line in [
        "page = context.new_page()",
        "page = context.pages[0]",
        "page.close()",
        "page.go_back()",
        "page.go_forward()",
        "page.reload()",
        "page.wait_for_timeout(500)",
        "page.evaluate(SCROLL, [300, 1])",
        "page.evaluate(SCROLL, [None, -1])",
        "page.keyboard.press('Enter')",
        'print(page.locator("body").inner_text())',
        "print(page.evaluate('document.title'))",
        "element(page, '#file').set_input_files(os.path.join(UPLOADS, 'report.csv'))",
        "with page.expect_download() as download:",
        "element(page, '#otp').fill(totp_now(os.environ['PERISCOPE_VAULT_TOTP_SECRET']))",
        "element(page, '#note').focus()",
        "page.keyboard.type('plain text')",
        "# not replayed: captcha solving needs a person",
        "# not replayed: the agent asked a person for help here",
        "# not replayed: reading the persona's mail needs the Periscope server",
        "# not replayed: reading the persona's SMS needs the Periscope server",
        "# not replayed: this script does not know the action 'teleport'",
        "# not replayed: the step named its element by an observe id and recorded no selector",
        "# answer: 'done'",
    ]:
        assert line in script, line


def test_the_script_computes_the_same_totp_code_as_the_server():
    script = script_of([step({"type": "fill", "value": "999779"}, target("#otp"))])["python_script"]
    namespace = {"__name__": "exported"}
    exec(compile(script, "replay.py", "exec"), namespace)  # defines, runs nothing
    secret = "JBSWY3DPEHPK3PXP"
    now = time.time()
    if int(now) % 30 > 27:
        time.sleep(3)  # not across a 30 s boundary
    assert namespace["totp_now"](secret) == totp.totp_now(secret)


@pytest.mark.parametrize("as_workflow", [False, True])
def test_values_from_pages_and_models_never_become_code(as_workflow):
    steps = [
        step({"type": "goto", "url": f"https://x.example/{NASTY}"}),
        step({"type": "fill", "id": "I1", "value": NASTY}, target(f"#a{NASTY}", "textbox", NASTY)),
        step(
            {"type": "click", "id": "B1", "text_label": NASTY},
            target(f'internal:role=button[name="{NASTY}"s]', NASTY, NASTY, frames=[NASTY]),
        ),
        step(
            {"type": "select_dropdown_option", "id": "I2", "value": NASTY},
            target("#s", option=NASTY),
        ),
        step({"type": "press_key", "key": NASTY}),
        step({"type": "switch_tab", "tab_index": f"1]; {NASTY}"}),
        step({"type": "wait", "time_ms": NASTY}),
        step({"type": "scroll_down", "amount": NASTY}),
        step({"type": "scrape", "selector": NASTY, "instructions": NASTY}),
        step({"type": "evaluate_js", "code": NASTY}),
        step({"type": "upload_file", "id": "B2", "file_path": NASTY}, target("#f")),
        step(
            {"type": "form_fill", "value": {NASTY: NASTY, "email": NASTY}},
            target(
                None, fields={NASTY: target(NASTY), "email": target(f"#e{NASTY}", frames=[NASTY])}
            ),
        ),
        step({"type": NASTY, "url": NASTY}),
        step({"type": "click", "selector": NASTY, f"x=1, y={NASTY}": 1, "__import__": 2}, None),
        step({"type": "help", "reason": NASTY}),
        step({"type": "completion", "success": True, "answer": NASTY}),
    ]
    code = workflow_code(steps, start_url=f"https://start.example/{NASTY}", as_workflow=as_workflow)
    script = code["python_script"]
    compile(script, "replay.py", "exec")
    assert "__import__" not in called_names(script) and "system" not in called_names(script)
    found = constants(script)
    # Each nasty value is still one whole string of the script, never split into code.
    assert any(c == NASTY for c in found)
    assert any(c == f"#a{NASTY}" for c in found)
    for line in script.splitlines():
        if "pwned" in line and line.lstrip().startswith("#"):
            assert repr(NASTY)[1:-1] in line or "\\n" in line  # escaped, on one comment line
    assert "\u2028" not in script
    assert all("x=1" not in key for action in code["json_actions"] for key in action)
    assert NASTY not in [
        action["type"] for action in code["json_actions"]
    ]  # not an action to replay


def test_the_notte_sdk_script_uses_only_what_notte_sdk_has():
    from notte_core.browser.observation import ExecutionResult
    from notte_core.data.space import DataSpace
    from notte_sdk import NotteClient
    from notte_sdk.endpoints.sessions import RemoteSession
    from notte_sdk.types import SessionStartRequest

    code = script_of([*LOGIN, step({"type": "scrape"})], as_workflow=True)
    script = code["python_script"]
    tree = ast.parse(script)
    compile(tree, "workflow.py", "exec")
    imports = [
        (n.module, [a.name for a in n.names])
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
    ]
    assert imports == [("notte_sdk", ["NotteClient"])]
    assert 'client.Session(vault_id=os.environ["PERISCOPE_VAULT_ID"])' in script
    assert "PERISCOPE_VAULT_ID" in ast.get_docstring(tree)
    # The placeholders stay: the server types the vault's secrets.
    assert "session.execute(type='fill', value='mycoolpassword', selector='#password')" in script
    calls = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value.id if isinstance(node.func.value, ast.Name) else None
            calls.setdefault(owner, set()).add(node.func.attr)
    assert calls["client"] == {"Session"} and calls["session"] == {"execute"}
    assert isinstance(inspect.getattr_static(NotteClient, "Session"), property)
    assert (
        "vault_id" in SessionStartRequest.model_fields
    )  # what client.Session(vault_id=...) validates
    returned = inspect.signature(RemoteSession.execute).return_annotation
    assert returned in ("ExecutionResult", ExecutionResult)
    assert "markdown" in DataSpace.model_fields and "data" in ExecutionResult.model_fields
    assert "result.data.markdown" in script
    assert all("id" not in action for action in code["json_actions"])


def test_the_notte_sdk_script_needs_no_vault_without_placeholders():
    script = script_of([step({"type": "click", "id": "L1"}, target("#more"))], as_workflow=True)[
        "python_script"
    ]
    assert "with client.Session() as session:" in script and "PERISCOPE_VAULT_ID" not in script


def test_vault_field_variables_can_be_renamed_but_must_be_names():
    script = script_of(LOGIN, vault_fields={"password": "SHOP_PASSWORD"})["python_script"]
    assert "os.environ['SHOP_PASSWORD']" in script
    with pytest.raises(ValueError):
        script_of(LOGIN, vault_fields={"password": "X']); import os #"})
