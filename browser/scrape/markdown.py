"""Markdown: the cleaned content rendered by html-to-markdown, plus the few touches it has no
option for.

The converter writes ATX headings, "-" bullets with nested lists indented by two spaces, fenced
code blocks, GFM pipe tables (pipes in cells escaped, cells kept on one line, colspan as empty
cells), inline links and images, and ``<https://...>`` for a link whose text is its URL.

What is done around it, on the lxml tree before and on the text after:

* A table caption becomes a paragraph above its table (the converter would italicise it).
* A layout table (one that holds another table) is read as plain blocks, not as a grid.
* Blanks are collapsed as a browser does: outside ``<pre>`` a line break is a space, and blanks
  next to a block are dropped (the converter would start a line with a space, or write empty
  quote lines).
* A quote right after a paragraph gets a blank line before it (the converter writes none, and
  many markdown readers then take the ">" for text).
* Separator rows are written ``|---|---|``, and parentheses in link targets are escaped.
* No trailing blanks, no runs of blank lines.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import html_to_markdown
from lxml import etree

log = logging.getLogger(__name__)

CONVERTER_OPTIONS = html_to_markdown.ConversionOptions(
    heading_style="atx",
    bullets="-",
    list_indent_width=2,
    strong_em_symbol="*",
    code_block_style="backticks",
    compact_tables=True,
    autolinks=True,
    # The cleaning stage has decided what is content: the converter keeps all it is given, and
    # its own clean-up (which drops navigation and forms) stays off.
    hidden_content="all",
    preprocessing=html_to_markdown.PreprocessingOptions(enabled=False),
    # No front matter from <head>; no text the live page does not carry either (scrape_dom.js
    # keeps neither an abbreviation's title nor a quotation's cite).
    extract_metadata=False,
    expand_abbreviations=False,
    include_blockquote_citations=False,
    highlight_style="none",  # <mark> is plain text, as "==text==" is not common markdown
)


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


_PREFORMATTED = frozenset({"pre", "textarea", "listing", "xmp", "plaintext"})
# Block-level elements: blanks next to them are not rendered.
_BLOCKS = _tags(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main "
    "menu nav ol p pre search section summary table tbody td tfoot th thead tr ul"
)
_LINE_BREAKS = re.compile(r"[\t\n\r\f]")
_TABLE_PARTS = frozenset({"thead", "tbody", "tfoot", "tr", "td", "th", "caption"})
_MAX_COLSPAN = 50
# Each pattern starts with a literal, which the regex engine scans for quickly.
_SEPARATOR_ROW = re.compile(r"\n\|((?: :?-{3,}:? \|)+)(?=\n|$)")
_TRAILING_BLANKS = re.compile(r"[ \t\u00a0]+\n")
_BLANK_LINES = re.compile(r"\n\n\n+")
_TARGETS_WITH_PARENTHESES = (
    "descendant-or-self::a/@href[contains(., '(') or contains(., ')')]"
    " | descendant-or-self::img/@src[contains(., '(') or contains(., ')')]"
)
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def render(root: Any) -> str:
    """The markdown of a cleaned subtree (it is changed on the way)."""
    _ready_tables(root)
    _collapse_blanks(root)
    html = etree.tostring(root, encoding="unicode", method="html", with_tail=False)
    result = html_to_markdown.convert(html, CONVERTER_OPTIONS)
    for warning in result.warnings:  # e.g. content nested deeper than its depth limit, left out
        log.info("html-to-markdown: %s", warning.message)
    markdown = result.content
    if "\n| -" in markdown:
        markdown = _SEPARATOR_ROW.sub(lambda m: "\n|" + m.group(1).replace(" ", ""), markdown)
    markdown = _escape_parentheses(markdown, root)
    markdown = _blank_line_before_quotes(markdown)
    if " \n" in markdown or "\t\n" in markdown or "\u00a0\n" in markdown:  # e.g. after a <br>
        markdown = _TRAILING_BLANKS.sub("\n", markdown)
    if "\n\n\n" in markdown:
        markdown = _BLANK_LINES.sub("\n\n", markdown)
    return markdown.strip()


def _ready_tables(root: Any) -> None:
    for table in list(root.iter("table")):
        if table.find(".//table") is not None:
            _read_as_blocks(table)
            continue
        for caption in table.findall("caption"):
            caption.tag = "p"
            tail, caption.tail = caption.tail, None
            table.addprevious(caption)
            if tail and tail.strip():  # text after a caption is not valid, but keep it
                caption.tail = tail
        for cell in table.iter("td", "th"):
            span = cell.get("colspan")
            if span and span.strip().isdigit() and int(span) > _MAX_COLSPAN:
                cell.set("colspan", str(_MAX_COLSPAN))


def _read_as_blocks(table: Any) -> None:
    """A layout table's own rows and cells become divs (the tables inside it stay tables)."""
    table.tag = "div"
    stack = list(table)
    while stack:
        el = stack.pop()
        if el.tag in _TABLE_PARTS:
            el.tag = "div"
            stack.extend(el)


def _collapse_blanks(root: Any) -> None:
    """Blanks as a browser renders them: outside preformatted text a line break or a tab is a
    space, and blanks at the start or end of a block, or next to one, are not shown."""
    if root.tag in _PREFORMATTED or any(el.tag in _PREFORMATTED for el in root.iterancestors()):
        return
    verbatim: set[Any] = set()  # inside preformatted text: their text and tail stay as they are
    for pre in root.iter(*_PREFORMATTED):
        verbatim.update(pre.iterdescendants())
    for el in root.iter():
        if verbatim and el in verbatim:
            continue
        text = el.text
        if text and el.tag not in _PREFORMATTED:
            if text.isspace() and el.tag in _BLOCKS:
                el.text = None
            else:
                el.text = _fold(text)
        tail = el.tail
        if tail and el is not root:
            if tail.isspace() and _at_block_edge(el):
                el.tail = None
            else:
                el.tail = _fold(tail)


def _at_block_edge(el: Any) -> bool:
    """Whether the blanks after ``el`` sit next to a block (or at the end of one)."""
    if el.tag in _BLOCKS:
        return True
    following = el.getnext()
    if following is None:
        parent = el.getparent()
        return parent is None or parent.tag in _BLOCKS
    return following.tag in _BLOCKS


def _fold(text: str) -> str:
    if "\n" in text or "\t" in text or "\r" in text or "\f" in text:
        return _LINE_BREAKS.sub(" ", text)
    return text


def _escape_parentheses(markdown: str, root: Any) -> str:
    """``](url)`` with ``\\(`` and ``\\)`` in the URL. The converter leaves balanced ones bare,
    which CommonMark allows, but simpler link readers end the URL at the first ``)``."""
    targets = set(root.xpath(_TARGETS_WITH_PARENTHESES))
    for url in targets:
        escaped = url.replace("(", "\\(").replace(")", "\\)")
        markdown = markdown.replace(f"]({url})", f"]({escaped})")
    return markdown


def _blank_line_before_quotes(markdown: str) -> str:
    if not _quote_after_text(markdown):
        return markdown
    lines: list[str] = []
    fence = ""  # the open code fence, if any
    for line in markdown.split("\n"):
        if fence:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
        elif m := _FENCE.match(line):
            fence = m.group(1)
        elif line.startswith(">") and lines and lines[-1] and not lines[-1].startswith(">"):
            lines.append("")
        lines.append(line)
    return "\n".join(lines)


def _quote_after_text(markdown: str) -> bool:
    """Whether some line starting with ">" follows a line of text (a quick look, fences aside)."""
    at = markdown.find("\n>")
    while at != -1:
        line_start = markdown.rfind("\n", 0, at) + 1
        if at > line_start and markdown[line_start] != ">":
            return True
        at = markdown.find("\n>", at + 2)
    return False
