"""Observe on a page far too big to list whole (browser/perception/observe.py): the description
stays bounded, lists exactly the actions returned, and its closing notes count what it left out.

Pure pytest, no Django: a real Chromium and pages set with `set_content`.
"""

import pytest

from browser.perception.observe import MAX_NODES_PER_FRAME, MAX_TEXT_LINES, observe

SECTIONS = 1000
LINKS_PER_SECTION = 3
LIMIT = 100  # notte-sdk's default max_nb_actions
# At most LIMIT action lines and MAX_TEXT_LINES headings, plus block headers and the notes: about
# 8,700 characters on this page (125 KB of HTML), whose 2,000 actions listed whole take 85,000.
MAX_DESCRIPTION_CHARS = 20_000


def big_page() -> str:
    parts = ["<!doctype html><html><head><title>Reference</title></head><body><main>"]
    parts.append('<input type="search" aria-label="Search the reference">')
    for section in range(SECTIONS):
        parts.append(f"<h2>Section {section}</h2><p>")
        parts.extend(
            f'<a href="#s{section}-{n}">item {section}.{n}</a> ' for n in range(LINKS_PER_SECTION)
        )
        parts.append("</p>")
    parts.append("</main></body></html>")
    return "".join(parts)


def what_observe_reads() -> tuple[int, int]:
    """(controls, headings) of big_page in document order, until a frame's control cap."""
    order = ["control"]
    for _ in range(SECTIONS):
        order += ["heading"] + ["control"] * LINKS_PER_SECTION
    controls = headings = 0
    for kind in order:
        if controls >= MAX_NODES_PER_FRAME:
            break
        if kind == "heading":
            headings += 1
        else:
            controls += 1
    return controls, headings


def listed_ids(description: str) -> list[str]:
    return [
        line.split("[:]", 1)[0]
        for line in description.splitlines()
        if not line.startswith(("_", "#"))
    ]


def notes(description: str) -> list[str]:
    return [line for line in description.splitlines() if line.startswith("_[:](")]


@pytest.fixture
def viewport() -> dict[str, int]:
    return {"width": 1280, "height": 1080}


@pytest.mark.asyncio(loop_scope="session")
async def test_a_huge_page_gets_a_bounded_description_that_counts_what_it_left_out(page):
    await page.set_content(big_page())
    controls, headings = what_observe_reads()
    assert controls == MAX_NODES_PER_FRAME and headings > MAX_TEXT_LINES  # the page needs both

    observation, _ = await observe(page, [page])
    assert len(observation.actions) == controls
    actions, description = observation.space(LIMIT)

    assert len(actions) == LIMIT
    assert len(description) < MAX_DESCRIPTION_CHARS
    assert listed_ids(description) == [a["id"] for a in actions]
    assert 'aria-label="Search the reference"' in actions[0]["description"]  # controls first
    shown = [line for line in description.splitlines() if line.startswith("_[:]Section ")]
    assert len(shown) == MAX_TEXT_LINES
    assert notes(description) == [
        f"_[:]({controls - LIMIT} more actions on this page are not listed, mostly navigation "
        "links and controls far from the screen: scroll, raise max_nb_actions, or observe with "
        "instructions)",
        f"_[:]({headings - MAX_TEXT_LINES} more headings on this page are not shown)",
        f"_[:](observe reads at most {MAX_NODES_PER_FRAME} controls in a frame and stopped there "
        "on this page: what follows in document order was not read, nor counted above)",
    ]

    # Uncapped, every action read is listed; the headings and the unread rest are still noted.
    whole = observation.description
    assert listed_ids(whole) == [a["id"] for a in observation.actions]
    assert notes(whole) == notes(description)[1:]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_page_shown_whole_carries_no_note(page):
    await page.set_content(
        "<!doctype html><html><body><h1>Small</h1>"
        + "".join(f'<h2>Part {n}</h2><a href="#p{n}">part {n}</a>' for n in range(20))
        + "</body></html>"
    )
    observation, _ = await observe(page, [page])
    actions, description = observation.space(LIMIT)
    assert len(actions) == 20 and listed_ids(description) == [a["id"] for a in actions]
    assert len([line for line in description.splitlines() if line.startswith("_[:]")]) == 21
    assert notes(description) == []


def well_formed(value) -> bool:
    """Every string in a JSON-ready value can be written as UTF-8 (no lone surrogate)."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(well_formed(v) for v in value.values())
    if isinstance(value, list):
        return all(well_formed(v) for v in value)
    return True


@pytest.mark.asyncio(loop_scope="session")
async def test_text_cut_inside_an_emoji_or_a_pages_lone_surrogate_reads_as_a_replacement(page):
    # Names are cut at 100 UTF-16 units: one of the two labels is cut between the halves of an
    # emoji, whatever the cut's parity. The third label holds a lone surrogate of its own.
    await page.set_content(
        "<!doctype html><html><body>"
        f'<button aria-label="{"😀" * 80}">a</button>'
        f'<button aria-label="x{"😀" * 80}">b</button>'
        '<button id="lone">c</button>'
        "<script>document.getElementById('lone').setAttribute('aria-label', 'lone \\uD800 half')"
        "</script></body></html>"
    )
    observation, _ = await observe(page, [page])
    actions, description = observation.space(LIMIT)

    assert len(actions) == 3
    assert well_formed(actions) and well_formed(description)
    assert "\N{REPLACEMENT CHARACTER}" in actions[1]["description"] + actions[0]["description"]
    assert 'aria-label="lone \N{REPLACEMENT CHARACTER} half"' in actions[2]["description"]
    assert "😀" * 40 in actions[0]["description"]  # whole emoji stay as they are
