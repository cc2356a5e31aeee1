"""The scrape (browser/scrape/): html_to_result without a browser, scrape_page in Chromium.

Pure pytest, no Django. The browser tests launch the Chromium tests/support/chromium.py finds and load pages from a
small http.server on 127.0.0.1 (and "localhost" for a cross-site iframe).
"""

import http.server
import re
import struct
import threading
import zlib
from pathlib import Path

import pytest

from browser.scrape import (
    IMAGE_CATEGORIES,
    ScrapedImage,
    ScrapeError,
    ScrapeOptions,
    ScrapeResult,
    html_to_result,
    scrape_page,
)

FIXTURES = Path(__file__).with_name("fixtures")
ARTICLE = (FIXTURES / "article.html").read_text(encoding="utf-8")
# The article's markdown with the default options, read and approved by eye. When a change to the
# scrape changes it on purpose, regenerate it and read the diff before committing it.
ARTICLE_MD = (FIXTURES / "article.md").read_text(encoding="utf-8").removesuffix("\n")
BASE = "https://news.example.com/2026/report.html"


def scrape(html: str = ARTICLE, base_url: str = BASE, frames=(), **options) -> ScrapeResult:
    return html_to_result(html, ScrapeOptions(**options), base_url=base_url, frames=list(frames))


def by_url(result: ScrapeResult) -> dict[str | None, ScrapedImage]:
    return {image.url: image for image in result.images}


def by_description(result: ScrapeResult) -> dict[str | None, ScrapedImage]:
    return {image.description: image for image in result.images}


# ---------------------------------------------------------------------------------------------
# html_to_result: the default scrape


def test_default_scrape_keeps_the_whole_visible_page_with_atx_headings_and_absolute_links():
    md = scrape().markdown
    assert md.startswith(
        "[Periscope Weekly](https://news.example.com/)"
    )  # logo link: named by its alt
    assert "\n# Running browsers for agents: a field report\n" in md
    assert "\n## Why a browser pool\n" in md
    assert "\n### Numbers at a glance\n" in md
    assert (
        "- [Guides](https://news.example.com/section/guides)" in md
    )  # top-level lists not indented
    assert "[Partner offer 1](https://partner1.example.org/offer?id=1&ref=sidebar)" in md
    assert "SITE-FOOTER-TEXT © 2026 Periscope Weekly." in md
    assert "[Write to the editor](mailto:editor@example.com)" in md
    assert "or jump to the top." in md and "#s0" not in md  # in-page links are text
    assert "(/docs/" not in md and "](/" not in md  # every link made absolute
    assert "![" not in md  # no images unless asked


def test_the_article_renders_as_its_golden_markdown():
    assert scrape().markdown == ARTICLE_MD


def test_hidden_and_non_content_elements_are_dropped_without_a_browser():
    md = scrape().markdown
    for text in (
        "HIDDEN-TEXT",
        "INVISIBLE-TEXT",
        "ARIA-CONCEALED-TEXT",
        "NOSCRIPT-TEXT",
        "TEMPLATE-TEXT",
        "window.analytics",
        "font-family",
        "a.dataset.seen",
    ):
        assert text not in md, text
    # A stylesheet rule cannot be seen without a browser: only scrape_page drops this one.
    assert "STYLESHEET-CONCEALED-TEXT" in md


def test_markdown_has_no_trailing_whitespace_and_no_runs_of_blank_lines():
    for options in (
        {},
        {"scrape_images": True},
        {"only_main_content": True},
        {"use_link_placeholders": True},
    ):
        md = scrape(**options).markdown
        assert md == md.strip()
        assert "\n\n\n" not in md
        assert all(line == line.rstrip() for line in md.split("\n")), options


def test_tables_are_gfm_pipe_tables():
    md = scrape().markdown
    assert (
        "| Operation | Median (ms) | p90 (ms) |\n"
        "|---|---|---|\n"
        "| launch | 173 | 190 |\n"
        "| new_context | 7.7 | 8.3 |\n"
    ) in md
    assert "| evaluate (JSON string) | 6.0 | 6.6 |" in md


def test_table_cells_stay_on_one_row_and_escape_pipes():
    html = """<table><caption>Plans</caption>
      <tr><th>Plan</th><th>Notes</th><th>Price</th></tr>
      <tr><td> Free </td><td><p>Line one</p><p>Line two<br>and three</p></td><td>0 | none</td></tr>
      <tr><td colspan="2">Team, <b>bold</b> <a href="/team">details</a></td><td>9</td></tr>
    </table>"""
    md = scrape(html, base_url="https://x.test/").markdown
    assert md.startswith("Plans\n\n| Plan | Notes | Price |\n|---|---|---|\n")
    assert "| Free | Line one Line two and three | 0 \\| none |" in md
    assert "| Team, **bold** [details](https://x.test/team) | | 9 |" in md


def test_code_blocks_blockquotes_and_lists():
    md = scrape().markdown
    assert (
        '\n\n```\npage = await context.new_page()\nawait page.goto(url, wait_until="load")\n'
        'data = await page.screenshot(type="jpeg", quality=60)\n```\n\n'
    ) in md
    assert re.search(r"\n> As a render .+\.\n", md)
    assert re.search(r"\n1\. \S.+\n2\. ", md)
    nested = scrape(
        "<ul><li>one<ul><li>inner</li></ul></li><li>two</li></ul><pre>  - yaml: kept\n</pre>"
    ).markdown
    assert nested == "- one\n  - inner\n- two\n\n```\n  - yaml: kept\n```"


def test_blocks_quotes_layout_tables_and_inline_markup_read_cleanly():
    html = """<div>Intro</div> <span>inline after a block</span>
      <p>Said:</p><blockquote> <p>Quoted.</p> <footer>Someone</footer> </blockquote>
      <pre>$ cat notes
> not a quote</pre>
      <table><tr><td><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table></td>
      <td>Side</td></tr></table>
      <p>An <abbr title="HyperText Markup Language">HTML</abbr> page with <mark>marked</mark> text<br>
      and a second line</p>"""
    assert scrape(html).markdown == (
        "Intro\n\ninline after a block\n\n"  # no line starts with a blank
        "Said:\n\n> Quoted.\n>\n> Someone\n\n"  # a blank line before the quote, none empty inside
        "```\n$ cat notes\n> not a quote\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\nSide\n\n"  # the layout table around it is plain blocks
        "An HTML page with marked text\nand a second line"
    )


def test_links_and_images_carry_no_title_and_an_icon_link_takes_its_svg_title():
    html = """<p><a href="/x" title="Tip">Titled</a> <a href="/close"><svg viewBox="0 0 8 8">
      <title>Close</title></svg></a> <img src="/i.png" alt="I" title="T"></p>"""
    assert scrape(html, base_url="https://x.test/", scrape_images=True).markdown == (
        "[Titled](https://x.test/x) [Close](https://x.test/close) ![I](https://x.test/i.png)"
    )


def test_text_is_decoded_and_unicode_kept():
    md = scrape(
        "<meta charset='windows-1252'><p>Caf\u00e9 &amp; cr\u00e8me &lt;b&gt; \u2014 &#x2713;&nbsp;ok</p>"
    ).markdown
    assert md == "Caf\u00e9 & cr\u00e8me <b> \u2014 \u2713 ok"


def test_empty_or_blank_html_gives_empty_markdown():
    assert scrape("").markdown == ""
    assert scrape("   \n").markdown == ""
    assert scrape("<html><body></body></html>").to_wire() == {"markdown": ""}


# ---------------------------------------------------------------------------------------------
# only_main_content, ignored_tags, selector


def test_only_main_content_drops_nav_sidebar_and_footer_but_keeps_the_article():
    md = scrape(only_main_content=True).markdown
    assert md.startswith(
        "# Running browsers for agents: a field report"
    )  # the article's own header stays
    for boilerplate in (
        "Guides",
        "Menu",
        "Partner offer",
        "More reading",
        "SITE-FOOTER-TEXT",
        "Privacy",
    ):
        assert boilerplate not in md, boilerplate
    assert "| Operation | Median (ms) | p90 (ms) |" in md
    assert "## What we learned" in md
    assert "HIDDEN-TEXT" not in md


def test_only_main_content_picks_main_then_role_main_then_a_single_article_else_strips_the_body():
    page = """<header><p>BANNER</p></header><nav>NAV</nav>
      <div role="main"><header><h1>Role main</h1></header><p>ROLE-MAIN-TEXT</p><aside>ASIDE</aside></div>
      <footer>FOOTER</footer>"""
    assert scrape(page, only_main_content=True).markdown == "# Role main\n\nROLE-MAIN-TEXT"

    page = (
        "<div>INTRO</div><article><h1>Only article</h1><p>BODY</p></article><footer>FOOTER</footer>"
    )
    assert scrape(page, only_main_content=True).markdown == "# Only article\n\nBODY"

    hidden_main = "<main hidden>HIDDEN-MAIN</main><article><p>SHOWN-ARTICLE</p></article>"
    assert scrape(hidden_main, only_main_content=True).markdown == "SHOWN-ARTICLE"

    page = """<header>SITE-HEADER</header><nav><a href="/a">NAV-LINK</a></nav>
      <div class="content"><article><header><h2>First</h2></header><p>ONE</p></article>
      <article><h2>Second</h2><p>TWO</p><footer>ARTICLE-FOOTER</footer></article></div>
      <div role="contentinfo">ROLE-FOOTER</div><aside>SIDEBAR</aside><footer>PAGE-FOOTER</footer>"""
    md = scrape(page, only_main_content=True).markdown
    assert md == "## First\n\nONE\n\n## Second\n\nTWO\n\nARTICLE-FOOTER"


def test_ignored_tags_remove_those_elements():
    md = scrape(ignored_tags=["NAV", "footer"]).markdown  # a list and any case are accepted
    assert "Guides" not in md and "SITE-FOOTER-TEXT" not in md and "Privacy" not in md
    assert "Partner offer 1" in md  # <aside> was not ignored
    assert "Menu" in md  # the <header> around the nav stays
    assert scrape(ignored_tags=("nav", "footer")).markdown == md
    no_tables = scrape(ignored_tags=("table",)).markdown
    assert "Operation" not in no_tables and "### Numbers at a glance" in no_tables
    assert ScrapeOptions(ignored_tags=["Nav", " aside "]).ignored_tags == ("nav", "aside")


def test_selector_scopes_the_extraction():
    table = scrape(selector="article table").markdown
    assert table.split("\n")[:3] == [
        "| Operation | Median (ms) | p90 (ms) |",
        "|---|---|---|",
        "| launch | 173 | 190 |",
    ]
    assert "Running browsers" not in table
    # Rows alone still come out as a table.
    assert scrape(selector="article tbody tr:nth-child(2)").markdown == (
        "| new_context | 7.7 | 8.3 |\n|---|---|---|"
    )
    sidebar = scrape(selector=".sidebar", scrape_images=True)
    assert sidebar.markdown.startswith(
        "## Sponsored\n\n- [Partner offer 1](https://partner1.example.org/"
    )
    assert "Running browsers" not in sidebar.markdown and "Guides" not in sidebar.markdown
    assert sidebar.images == []  # no favicon: the page's head is out of scope
    # The selector wins over only_main_content's choice of root (boilerplate is still stripped inside).
    assert (
        scrape(selector="header.site-header", only_main_content=True).markdown
        == "[Periscope Weekly](https://news.example.com/) Menu"
    )


def test_a_selector_on_a_link_or_an_image_follows_the_same_rules():
    html = """<p><a id="top" href="#s1">To the top</a> <a id="out" href="/out">Out</a>
      <img id="pic" src="/pic.png" alt="Picture"></p>"""

    def scoped(selector: str, **options) -> str:
        return scrape(html, base_url="https://x.test/", selector=selector, **options).markdown

    assert scoped("#top") == "To the top"  # an in-page link is its text
    assert scoped("#out") == "[Out](https://x.test/out)"
    assert scoped("#out", scrape_links=False) == "Out"
    assert scoped("#pic") == ""  # no images unless asked
    assert scoped("#pic", scrape_images=True) == "![Picture](https://x.test/pic.png)"


def test_selector_that_matches_nothing_or_is_invalid_raises_scrape_error():
    with pytest.raises(ScrapeError, match=r"selector '#nope' matched nothing"):
        scrape(selector="#nope")
    with pytest.raises(ScrapeError, match=r"invalid selector 'div\[\['"):
        scrape(selector="div[[")


# ---------------------------------------------------------------------------------------------
# links and images


def test_scrape_links_false_renders_links_as_their_text():
    md = scrape(scrape_links=False).markdown
    assert "](" not in md and "http" not in md
    assert "By Ada Example, 22 November 2026" in md
    assert "- Guides\n" in md


def test_special_links():
    html = """<p><a href="javascript:void(0)">JS link</a> <a href="#top">Top</a> <a href="/x" aria-label="Close dialog"></a>
      <a href="/y"><img src="/logo.png" alt="Home"></a> <a href="/z"></a> <a href="/docs/a b">Spaces</a>
      <a href="https://other.test/q?a=(1)">Parens</a> <a>No href</a> <a href="https://other.test/">https://other.test/</a></p>"""
    md = scrape(html, base_url="https://x.test/dir/page").markdown
    assert md == (
        "JS link Top [Close dialog](https://x.test/x) [Home](https://x.test/y) "
        "[Spaces](https://x.test/docs/a%20b) [Parens](https://other.test/q?a=\\(1\\)) No href <https://other.test/>"
    )
    with_images = scrape(html, base_url="https://x.test/dir/page", scrape_images=True).markdown
    assert "[![Home](https://x.test/logo.png)](https://x.test/y)" in with_images


def test_relative_urls_resolve_against_base_href_and_stay_relative_without_base():
    html = '<head><base href="https://cdn.test/assets/"></head><a href="page.html">Rel</a> <img src="i.png" alt="I">'
    assert scrape(html, base_url="https://x.test/", scrape_images=True).markdown == (
        "[Rel](https://cdn.test/assets/page.html) ![I](https://cdn.test/assets/i.png)"
    )
    assert (
        scrape('<a href="../up.html">Up</a>', base_url="https://x.test/a/b/c").markdown
        == "[Up](https://x.test/a/up.html)"
    )
    assert scrape('<a href="/p">P</a>', base_url="").markdown == "[P](/p)"


def test_images_only_when_asked_and_in_the_wire_form_only_then():
    plain = scrape()
    assert plain.images == [] and "images" not in plain.to_wire()
    result = scrape(scrape_images=True)
    md = result.markdown
    assert (
        "![Architecture diagram of the worker pool](https://news.example.com/img/architecture.png)"
        in md
    )
    assert (
        "[![Share](https://news.example.com/img/icons/share.png)](https://social.example.com/share?u=report)"
        in md
    )
    wire = result.to_wire()
    assert set(wire) == {"markdown", "images"}
    assert wire["images"][0] == {
        "url": "https://news.example.com/favicon.ico",
        "category": "favicon",
        "description": None,
    }
    assert all(set(image) == {"url", "category", "description"} for image in wire["images"])
    assert all(image["category"] in IMAGE_CATEGORIES for image in wire["images"])


def test_image_categories_in_the_article():
    result = scrape(scrape_images=True)
    images = by_url(result)
    assert result.images[0].category == "favicon"
    assert images["https://news.example.com/img/architecture.png"].category == "content_image"
    assert images["https://news.example.com/img/logo.svg"].category == "content_image"  # 120x32
    assert images["https://news.example.com/img/icons/share.png"].category == "icon"  # 16x16
    assert images["https://news.example.com/img/badge.png"].category == "icon"  # class badge-icon
    assert images["https://news.example.com/img/authors/ada.jpg"].category == "decorative"  # alt=""
    assert (
        images["https://news.example.com/img/divider.png"].category == "decorative"
    )  # role=presentation
    svgs = [image for image in result.images if image.url is None]
    assert [(s.category, s.description) for s in svgs] == [
        ("svg_icon", None),
        ("svg_content", "Throughput over time"),
    ]
    assert [image.url for image in result.images].count(
        "https://news.example.com/img/architecture.png"
    ) == 1


def test_image_categories_each_rule():
    html = """<head><link rel="shortcut icon" href="/fav.png"><link rel="apple-touch-icon" href="/touch.png">
      <link rel="stylesheet" href="/s.css"></head><body>
      <img src="/photo.jpg" alt="A photo" width="640" height="480">
      <img src="/small.png" alt="Small" width="24" height="24">
      <img src="/wide.png" alt="Search" class="ui-Icon big" width="200" height="200">
      <img src="/named.png" name="icon-home" alt="Home">
      <img src="/styled.png" style="width: 20px; height: 20px" alt="Styled">
      <img src="/spacer.gif" alt="" width="300" height="10">
      <img src="/labelled.png" alt="" aria-label="Chart of sales" width="300" height="200">
      <img src="/pres.png" role="presentation" alt="Presentation" width="300" height="200">
      <img src="/none.png" role="none" alt="None role" width="300" height="200">
      <div aria-hidden="true"><img src="/bg.jpg" alt="Backdrop" width="800" height="600"><p>ARIA-TEXT</p></div>
      <img src="/pixel.gif" width="1" height="1" alt="">
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/lazy.jpg" alt="Lazy" width="400" height="300">
      <img srcset="/set-1x.jpg 1x, /set-2x.jpg 2x" alt="Srcset" width="400" height="300">
      <img src="/photo.jpg" alt="Same photo again">
      <svg width="24" height="24"><path d="M0 0h24v24H0z"/></svg>
      <svg viewBox="0 0 16 16"><title>Tiny logo</title></svg>
      <svg width="300" height="150" aria-label="Sales chart"><text>SVG-TEXT</text></svg>
      <svg><circle r="5"/></svg>
    </body>"""
    result = scrape(html, base_url="https://x.test/", scrape_images=True)
    got = [
        (i.url and i.url.removeprefix("https://x.test"), i.category, i.description)
        for i in result.images
    ]
    assert got == [
        ("/fav.png", "favicon", None),
        ("/touch.png", "favicon", None),
        ("/photo.jpg", "content_image", "A photo"),
        ("/small.png", "icon", "Small"),
        ("/wide.png", "icon", "Search"),
        ("/named.png", "icon", "Home"),
        ("/styled.png", "icon", "Styled"),
        ("/spacer.gif", "decorative", None),
        ("/labelled.png", "content_image", "Chart of sales"),
        ("/pres.png", "decorative", "Presentation"),
        ("/none.png", "decorative", "None role"),
        ("/bg.jpg", "decorative", "Backdrop"),
        ("/lazy.jpg", "content_image", "Lazy"),
        ("/set-1x.jpg", "content_image", "Srcset"),
        (None, "svg_icon", None),
        (None, "svg_icon", "Tiny logo"),
        (None, "svg_content", "Sales chart"),
        (None, "svg_content", None),
    ]
    md = result.markdown
    assert "ARIA-TEXT" not in md and "Backdrop" not in md  # aria-hidden: listed, never shown
    assert "SVG-TEXT" not in md and "Tiny logo" not in md
    assert "pixel.gif" not in md


def test_only_images_gives_the_image_list_and_no_markdown():
    result = scrape(only_images=True)
    assert result.markdown == ""
    assert result.to_wire()["markdown"] == ""
    assert [i.category for i in result.images] == [
        i.category for i in scrape(scrape_images=True).images
    ]
    assert len(result.images) == 12


def test_hidden_images_are_not_listed():
    html = """<img src="/a.png" alt="Shown" width="100" height="100"><div hidden><img src="/b.png" alt="B"></div>
      <img src="/c.png" alt="C" style="display:none"><nav><img src="/d.png" alt="D" width="100" height="100"></nav>"""
    assert [i.url for i in scrape(html, base_url="", only_images=True).images] == [
        "/a.png",
        "/d.png",
    ]
    assert [
        i.url for i in scrape(html, base_url="", only_images=True, ignored_tags=("nav",)).images
    ] == ["/a.png"]


# ---------------------------------------------------------------------------------------------
# link placeholders


def test_link_placeholders_number_distinct_urls_in_document_order():
    html = """<p><a href="/one">One</a> <a href="/two">Two</a> <a href="/one">One again</a>
      <img src="/pic.png" alt="Pic"> <img src="/pic2.png" alt="Pic 2"> <img src="/pic.png" alt="Pic again"></p>
      <p><a href="https://other.test/three">Three</a> <a href="#frag">Frag</a></p>"""
    result = scrape(
        html, base_url="https://x.test/", use_link_placeholders=True, scrape_images=True
    )
    assert result.markdown == (
        "[One](<link_1>) [Two](<link_2>) [One again](<link_1>) ![Pic](<img_1>) ![Pic 2](<img_2>) ![Pic again](<img_1>)\n\n"
        "[Three](<link_3>) Frag"
    )
    assert result.placeholders == {
        "<link_1>": "https://x.test/one",
        "<link_2>": "https://x.test/two",
        "<img_1>": "https://x.test/pic.png",
        "<img_2>": "https://x.test/pic2.png",
        "<link_3>": "https://other.test/three",
    }
    assert result.restore_placeholders("see <link_3> and <img_2>, not <link_9>") == (
        "see https://other.test/three and https://x.test/pic2.png, not <link_9>"
    )
    assert [i.url for i in result.images] == [
        "https://x.test/pic.png",
        "https://x.test/pic2.png",
    ]  # real URLs
    assert "placeholders" not in result.to_wire()


def test_link_placeholders_on_the_article():
    result = scrape(use_link_placeholders=True)
    md = result.markdown
    assert "https://" not in md and "mailto:" not in md
    assert md.startswith("[Periscope Weekly](<link_1>)\n\n- [News](<link_2>)\n- [Guides](<link_3>)")
    tokens = re.findall(r"<link_(\d+)>", md)
    first_seen = list(dict.fromkeys(int(t) for t in tokens))
    assert first_seen == list(range(1, len(first_seen) + 1))  # numbered in order of appearance
    assert len(result.placeholders) == len(first_seen) > 100
    assert result.restore_placeholders(md) == scrape().markdown


# ---------------------------------------------------------------------------------------------
# frames


def test_frames_are_appended_as_iframe_sections():
    frames = [
        (
            "https://widget.test/w/index.html",
            "<p>WIDGET-TEXT <a href='buy'>Buy</a></p><img src='/w.png' alt='Widget'>",
        ),
        ("about:blank", ""),
        ("https://ads.test/empty", "<div hidden>AD</div>"),
        ("https://second.test/", "<h2>Second frame</h2>"),
    ]
    result = scrape(
        "<h1>Host</h1><a href='/home'>Home</a>",
        base_url="https://x.test/",
        frames=frames,
        use_link_placeholders=True,
        scrape_images=True,
    )
    assert result.markdown == (
        "# Host\n\n[Home](<link_1>)\n\n"
        "IFRAME https://widget.test/w/index.html:\nWIDGET-TEXT [Buy](<link_2>)\n\n![Widget](<img_1>)\n\n"
        "IFRAME https://second.test/:\n## Second frame"
    )
    assert result.placeholders["<link_2>"] == "https://widget.test/w/buy"
    assert result.placeholders["<img_1>"] == "https://widget.test/w.png"
    assert [i.url for i in result.images] == ["https://widget.test/w.png"]


def test_frames_are_left_out_when_a_selector_scopes_the_scrape():
    md = scrape(
        "<h1>Host</h1><p id='p'>Para</p>",
        frames=[("https://w.test/", "<p>FRAME</p>")],
        selector="#p",
    ).markdown
    assert md == "Para"


# ---------------------------------------------------------------------------------------------
# scrape_page in Chromium


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x20\x60\xa0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


VISIBILITY_PAGE = """<!DOCTYPE html><html><head><title>Visibility</title><style>
  .gone { display: none; } .ghost { visibility: hidden; } .shown { visibility: visible; }
  .tiny { width: 20px; height: 20px; } .svg16 { width: 16px; height: 16px; }
  .offscreen { position: absolute; left: -10000px; }
</style></head><body>
<h1>Visibility cases</h1>
<p>VISIBLE-TEXT stays.</p>
<div class="gone">CSS-GONE-TEXT <img src="/img/gone.png" alt="Gone image" width="300" height="200"></div>
<div class="ghost">GHOST-TEXT <span class="shown">SHOWN-IN-GHOST-TEXT</span></div>
<div style="display: contents">CONTENTS-TEXT</div>
<details><summary>SUMMARY-TEXT</summary>CLOSED-DETAILS-TEXT</details>
<p class="offscreen">OFFSCREEN-TEXT</p>
<p hidden>HIDDEN-TEXT</p>
<p style="visibility:hidden">INVISIBLE-TEXT</p>
<shadow-host><span>LIGHT-TEXT</span></shadow-host>
<p><img class="tiny" src="/img/photo.png" alt="Tiny by CSS"> <img src="/img/photo.png" alt="Natural size"></p>
<svg class="svg16" viewBox="0 0 100 100"><title>Star</title><circle cx="50" cy="50" r="40"/></svg>
<script>
  customElements.define('shadow-host', class extends HTMLElement {
    connectedCallback() { this.attachShadow({mode: 'open'}).innerHTML = '<p>SHADOW-TEXT <slot></slot></p>'; }
  });
</script>
</body></html>"""

FRAMES_PAGE = """<!DOCTYPE html><html><head><title>Frames</title></head><body>
<h1>Frames host</h1>
<p>HOST-TEXT <a href="/host-link">Host link</a></p>
<iframe src="/child.html"></iframe>
<iframe srcdoc="<p>SRCDOC-TEXT</p>"></iframe>
<iframe src="http://localhost:{port}/cross.html"></iframe>
<iframe src="/hidden-child.html" style="display: none"></iframe>
</body></html>"""

PAGES = {
    "/article.html": ARTICLE,
    "/visibility.html": VISIBILITY_PAGE,
    "/frames.html": FRAMES_PAGE,
    "/child.html": "<html><body><p>CHILD-TEXT <a href='/child-link'>Child link</a></p><style>.x{display:none}</style><p class='x'>CHILD-HIDDEN</p></body></html>",
    "/cross.html": "<html><body><p>CROSS-ORIGIN-TEXT <a href='/cross-link'>Cross link</a></p></body></html>",
    "/hidden-child.html": "<html><body><p>HIDDEN-FRAME-TEXT</p></body></html>",
}
IMAGE = png(64, 48)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path in PAGES:
            body = PAGES[path].replace("{port}", str(self.server.server_address[1])).encode()
            kind = "text/html; charset=utf-8"
        elif path.endswith((".png", ".jpg", ".ico")):
            body, kind = IMAGE, "image/png"
        elif path.endswith(".svg"):
            body = b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32"><rect width="120" height="32"/></svg>'
            kind = "image/svg+xml"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.asyncio(loop_scope="session")
async def test_scrape_page_drops_what_css_hides_which_html_to_result_cannot_see(page, site):
    await page.goto(f"{site}/article.html")
    md = (await scrape_page(page, ScrapeOptions())).markdown
    assert "STYLESHEET-CONCEALED-TEXT" not in md
    assert (
        "STYLESHEET-CONCEALED-TEXT"
        in html_to_result(await page.content(), ScrapeOptions()).markdown
    )
    for text in (
        "HIDDEN-TEXT",
        "INVISIBLE-TEXT",
        "ARIA-CONCEALED-TEXT",
        "NOSCRIPT-TEXT",
        "TEMPLATE-TEXT",
        "window.analytics",
    ):
        assert text not in md, text
    assert "\n# Running browsers for agents: a field report\n" in md
    assert f"[Guides]({site}/section/guides)" in md
    assert "| Operation | Median (ms) | p90 (ms) |\n|---|---|---|\n| launch | 173 | 190 |" in md
    assert "```\npage = await context.new_page()\n" in md


@pytest.mark.asyncio(loop_scope="session")
async def test_scrape_page_visibility_rules(page, site):
    await page.goto(f"{site}/visibility.html")
    result = await scrape_page(page, ScrapeOptions(scrape_images=True))
    md = result.markdown
    for shown in (
        "VISIBLE-TEXT",
        "SHOWN-IN-GHOST-TEXT",
        "CONTENTS-TEXT",
        "SUMMARY-TEXT",
        "OFFSCREEN-TEXT",
        "SHADOW-TEXT LIGHT-TEXT",
    ):
        assert shown in md, shown
    for gone in (
        "CSS-GONE-TEXT",
        "GHOST-TEXT stays",
        "CLOSED-DETAILS-TEXT",
        "HIDDEN-TEXT",
        "INVISIBLE-TEXT",
        "Gone image",
        "customElements",
    ):
        assert gone not in md, gone
    assert "GHOST-TEXT" not in md.replace("SHOWN-IN-GHOST-TEXT", "")
    # Sizes come from layout: CSS makes these an icon and an svg icon.
    images = {
        (i.url and i.url.removeprefix(site), i.description): i.category for i in result.images
    }
    assert images == {
        ("/img/photo.png", "Tiny by CSS"): "icon",
        (None, "Star"): "svg_icon",
    }  # the same URL again (natural 64x48) is listed once
    pure = html_to_result(VISIBILITY_PAGE, ScrapeOptions(scrape_images=True), base_url=site)
    assert {(i.description, i.category) for i in pure.images} >= {
        ("Tiny by CSS", "content_image"),
        ("Star", "svg_content"),
    }


@pytest.mark.asyncio(loop_scope="session")
async def test_scrape_page_image_categories_match_html_to_result_on_the_article(page, site):
    await page.goto(f"{site}/article.html")
    live = await scrape_page(page, ScrapeOptions(only_images=True))
    pure = html_to_result(ARTICLE, ScrapeOptions(only_images=True), base_url=f"{site}/article.html")
    assert live.markdown == ""
    assert [(i.url, i.category, i.description) for i in live.images] == [
        (i.url, i.category, i.description) for i in pure.images
    ]
    assert live.to_wire()["images"][0] == {
        "url": f"{site}/favicon.ico",
        "category": "favicon",
        "description": None,
    }


@pytest.mark.asyncio(loop_scope="session")
async def test_scrape_page_options(page, site):
    await page.goto(f"{site}/article.html")
    main = (await scrape_page(page, ScrapeOptions(only_main_content=True))).markdown
    assert main.startswith("# Running browsers for agents: a field report")
    assert "Guides" not in main and "Partner offer" not in main and "SITE-FOOTER-TEXT" not in main
    assert "| launch | 173 | 190 |" in main

    no_links = (await scrape_page(page, ScrapeOptions(scrape_links=False))).markdown
    assert "](" not in no_links and "By Ada Example, 22 November 2026" in no_links

    ignored = (await scrape_page(page, ScrapeOptions(ignored_tags=("nav", "footer")))).markdown
    assert (
        "Guides" not in ignored
        and "SITE-FOOTER-TEXT" not in ignored
        and "Partner offer 1" in ignored
    )

    scoped = await scrape_page(
        page, ScrapeOptions(selector="aside.sidebar h2 + ul", scrape_images=True)
    )
    assert scoped.markdown.startswith(
        "- [Partner offer 1](https://partner1.example.org/offer?id=1&ref=sidebar)"
    )
    assert "Running browsers" not in scoped.markdown and scoped.images == []
    row = await scrape_page(page, ScrapeOptions(selector="article tbody tr:nth-child(2)"))
    assert row.markdown == "| new_context | 7.7 | 8.3 |\n|---|---|---|"

    placeholders = await scrape_page(
        page, ScrapeOptions(use_link_placeholders=True, scrape_images=True)
    )
    assert placeholders.markdown.startswith(
        "[![Periscope Weekly](<img_1>)](<link_1>)\n\n- [News](<link_2>)"
    )
    assert placeholders.placeholders["<link_2>"] == f"{site}/section/news"
    assert placeholders.placeholders["<img_1>"] == f"{site}/img/logo.svg"


@pytest.mark.asyncio(loop_scope="session")
async def test_scrape_page_selector_errors(page, site):
    await page.goto(f"{site}/article.html")
    with pytest.raises(ScrapeError, match=r"selector '\.missing' matched nothing"):
        await scrape_page(page, ScrapeOptions(selector=".missing"))
    with pytest.raises(ScrapeError, match=r"invalid selector 'div\[\['"):
        await scrape_page(page, ScrapeOptions(selector="div[["))


@pytest.mark.asyncio(loop_scope="session")
async def test_scrape_page_appends_child_frames_including_cross_origin_ones(page, site):
    await page.goto(f"{site}/frames.html")
    cross = site.replace("127.0.0.1", "localhost")
    result = await scrape_page(page, ScrapeOptions())
    md = result.markdown
    assert md.startswith(f"# Frames host\n\nHOST-TEXT [Host link]({site}/host-link)")
    assert f"\n\nIFRAME {site}/child.html:\nCHILD-TEXT [Child link]({site}/child-link)" in md
    assert "\n\nIFRAME about:srcdoc:\nSRCDOC-TEXT" in md
    assert (
        f"\n\nIFRAME {cross}/cross.html:\nCROSS-ORIGIN-TEXT [Cross link]({cross}/cross-link)" in md
    )
    assert "CHILD-HIDDEN" not in md  # CSS inside the frame is applied too
    assert "HIDDEN-FRAME-TEXT" not in md  # the <iframe> itself is display:none
    assert md.count("IFRAME ") == 3

    scoped = (await scrape_page(page, ScrapeOptions(selector="p"))).markdown
    assert scoped == f"HOST-TEXT [Host link]({site}/host-link)"

    masked = await scrape_page(page, ScrapeOptions(use_link_placeholders=True))
    assert set(masked.placeholders.values()) == {
        f"{site}/host-link",
        f"{site}/child-link",
        f"{cross}/cross-link",
    }
    assert "[Host link](<link_1>)" in masked.markdown


@pytest.mark.asyncio(loop_scope="session")
async def test_scrape_page_on_set_content(page):
    await page.set_content(
        "<h2>Inline</h2><ul><li>one</li><li>two</li></ul><p class='x'>shown</p>"
        "<style>.x ~ p { display: none }</style><p>CSS-HIDDEN-SIBLING</p>"
    )
    assert (
        await scrape_page(page, ScrapeOptions())
    ).markdown == "## Inline\n\n- one\n- two\n\nshown"


@pytest.mark.asyncio(loop_scope="session")
async def test_scrape_page_renders_the_article_as_the_same_golden_markdown(page, site):
    await page.goto(f"{site}/article.html")
    md = (await scrape_page(page, ScrapeOptions())).markdown
    # What html_to_result makes of the same HTML, less the paragraph only a stylesheet hides.
    concealed = "STYLESHEET-CONCEALED-TEXT appears only in the raw HTML.\n\n"
    assert concealed in ARTICLE_MD
    assert md == ARTICLE_MD.replace("https://news.example.com", site).replace(concealed, "")
