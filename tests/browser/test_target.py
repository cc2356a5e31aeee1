"""The resolved target (browser/perception/target.py): each element is described by a selector
that a fresh load of the page resolves to the very same element, and no value typed into a field
ever appears in a target.

Pure pytest, no Django: a real Chromium, pages served by Playwright's routing. "The same element"
is checked through a `data-mark` attribute the target code never reads.
"""

import json

import pytest
import pytest_asyncio

from browser.perception.target import element_target, role_selector

ORIGIN = "http://target.test"
SECRET = 'Canary-9f3b2c-"quoted"-secret'

PAGE = """<!doctype html><html><head><title>Targets</title></head><body>
<form id="login-form">
  <label for="email">Email</label><input id="email" name="email" data-mark="email">
  <label for="pw">Password</label><input id="pw" type="password" name="password" data-mark="password"
      value="preset-SECRETVALUE">
  <input name="q" class="gen" data-mark="query" placeholder="Search">
  <button type="submit" class="gen" data-mark="submit">Sign in</button>
</form>
<button data-testid="save-button" id="save-7731" data-mark="save">Save</button>
<table>
  <tr><td>Alpha</td><td><button class="gen" data-mark="delete-1">Delete</button></td></tr>
  <tr><td>Beta</td><td><button class="gen" data-mark="delete-2">Delete</button></td></tr>
</table>
<fieldset>
  <label><input type="radio" name="plan" data-mark="plan-basic"> Basic</label>
  <label><input type="radio" name="plan" data-mark="plan-pro"> Pro</label>
</fieldset>
<div id="dup">one</div><div id="dup"><a href="/next" data-mark="next">Next page</a></div>
<p><a href="/next" data-mark="next-2">Next page</a></p>
<button class="gen" data-mark="quotes">Say "hi" \\ there</button>
<div contenteditable="true" aria-label="Notes" class="gen" data-mark="notes"></div>
<label>Nested <input class="gen" data-mark="nested" value="SECRETVALUE-NESTED"></label>
<select name="country" data-mark="country"><option>France</option><option>Japan</option></select>
<shadow-card id="card"></shadow-card>
<shadow-card></shadow-card>
<iframe id="pay" src="/frame.html"></iframe>
<script>
  // Generated ids change on every load: a target must never rely on them.
  for (const el of document.querySelectorAll(".gen")) el.id = ":r" + Math.random().toString(36).slice(2) + ":";
  customElements.define("shadow-card", class extends HTMLElement {
    constructor() {
      super();
      const root = this.attachShadow({mode: "open"});
      root.innerHTML = '<div><span>Card</span><button data-mark="' + (this.id || "anon") + '-buy">Buy</button></div>';
    }
  });
</script>
</body></html>"""

FRAME = """<!doctype html><html><body>
<label for="cc">Card number</label><input id="cc" name="cc" data-mark="cc">
<button id="go" data-mark="go-1">Pay</button><button id="go" data-mark="go-2">Pay now</button>
<iframe name="inner" src="/inner.html"></iframe>
</body></html>"""

INNER = """<!doctype html><html><body><button data-mark="inner-ok">OK</button></body></html>"""


@pytest_asyncio.fixture(loop_scope="session")
async def page(chromium):
    context = await chromium.new_context()
    pages = {"/": PAGE, "/frame.html": FRAME, "/inner.html": INNER, "/next": "<p>next</p>"}

    async def serve(route):
        path = route.request.url.removeprefix(ORIGIN)
        await route.fulfill(
            status=200, content_type="text/html", body=pages.get(path, "<p>none</p>")
        )

    await context.route(f"{ORIGIN}/**", serve)
    page = await context.new_page()
    await page.goto(f"{ORIGIN}/")
    yield page
    await context.close()


async def target_of(page, mark: str, frame=None):
    frame = frame or page.main_frame
    handle = await frame.locator(f"[data-mark='{mark}']").element_handle()
    return await element_target(handle)


async def mark_after_reload(page, target) -> str:
    """Load the page afresh and find the target as a replay would: the mark of what it finds."""
    await page.reload()
    scope = page
    for frame_selector in target["frame_selectors"]:
        scope = scope.frame_locator(frame_selector)
    locator = scope.locator(target["selector"])
    assert await locator.count() == 1, target
    return await locator.get_attribute("data-mark")


EXPECTED = {
    "email": "#email",
    "query": 'input[name="q"]',
    "save": '[data-testid="save-button"]',
    "submit": role_selector("button", "Sign in"),
    "plan-pro": role_selector("radio", "Pro"),
    "notes": 'div[aria-label="Notes"]',
    "country": 'select[name="country"]',
}


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("mark", list(EXPECTED))
async def test_the_most_stable_unique_selector_is_chosen(page, mark):
    target = await target_of(page, mark)
    assert target["selector"] == EXPECTED[mark]
    assert target["frame_url"] is None and target["frame_selectors"] == []
    assert await mark_after_reload(page, target) == mark


@pytest.mark.asyncio(loop_scope="session")
async def test_role_and_name_are_given(page):
    assert await target_of(page, "email") | {} == {
        "selector": "#email",
        "role": "textbox",
        "name": "Email",
        "frame_url": None,
        "frame_selectors": [],
    }
    submit = await target_of(page, "submit")
    assert (submit["role"], submit["name"]) == ("button", "Sign in")


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    "mark",
    [
        "delete-2",
        "delete-1",
        "next",
        "next-2",
        "quotes",
        "nested",
        "card-buy",
        "anon-buy",
        "plan-basic",
    ],
)
async def test_ambiguous_elements_resolve_to_themselves_after_a_fresh_load(page, mark):
    """Same names, duplicated ids, generated ids, shadow roots: whatever the selector, a fresh
    load finds exactly this element."""
    target = await target_of(page, mark)
    assert target is not None
    assert "#\\:r" not in target["selector"], "a generated id was used"
    assert "#dup" not in target["selector"], "a duplicated id was used"
    assert await mark_after_reload(page, target) == mark


@pytest.mark.asyncio(loop_scope="session")
async def test_elements_in_iframes_carry_the_frames_leading_to_them(page):
    frame = page.frame(url=f"{ORIGIN}/frame.html")
    target = await target_of(page, "cc", frame)
    assert target["selector"] == "#cc" and target["frame_url"] == f"{ORIGIN}/frame.html"
    assert target["frame_selectors"] == ["#pay"]
    assert await mark_after_reload(page, target) == "cc"

    # A page without shadow roots: its CSS candidates are settled in the page alone, still
    # never a duplicated id.
    target = await target_of(page, "go-2", page.frame(url=f"{ORIGIN}/frame.html"))
    assert target["selector"] == role_selector("button", "Pay now")
    assert await mark_after_reload(page, target) == "go-2"

    inner = page.frame(name="inner")
    target = await target_of(page, "inner-ok", inner)
    assert target["frame_selectors"] == ["#pay", 'iframe[name="inner"]']
    assert target["frame_url"] == f"{ORIGIN}/inner.html"
    assert await mark_after_reload(page, target) == "inner-ok"


@pytest.mark.asyncio(loop_scope="session")
async def test_no_typed_or_preset_value_reaches_a_target(page):
    await page.fill("[data-mark='password']", SECRET)
    await page.fill("[data-mark='email']", SECRET)
    await page.fill("[data-mark='nested']", SECRET)
    await page.locator("[data-mark='notes']").fill(SECRET)
    await page.select_option("[data-mark='country']", label="Japan")
    targets = [
        await target_of(page, mark) for mark in ("password", "email", "nested", "notes", "country")
    ]
    text = json.dumps(targets)
    for secret in (SECRET, "Canary-9f3b2c", "SECRETVALUE", "Japan"):
        assert secret not in text
    assert targets[0]["selector"] == "#pw"
    assert targets[3]["name"] == "Notes"


@pytest.mark.asyncio(loop_scope="session")
async def test_an_element_that_left_the_page_has_no_target(page):
    handle = await page.locator("[data-mark='save']").element_handle()
    await page.evaluate("document.querySelector(\"[data-mark='save']\").remove()")
    assert await element_target(handle) is None
