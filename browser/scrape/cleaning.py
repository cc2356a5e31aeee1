"""Cleaning: from a parsed page to the subtree that is its content, with the rest cut out.

What is cut: elements that are never content (script, style, head, iframe, canvas...), the tags
the caller ignores, and what is hidden. Without a browser, hidden means the ``hidden``
attribute, ``aria-hidden="true"`` or an inline ``display:none`` / ``visibility:hidden``; on a
live page scrape_dom.js has already left out what CSS hides. An aria-hidden subtree is cut, but
its images are still listed (as decorative).

With only_main_content the root is the page's ``<main>``, else its ``[role=main]``, else its
only ``<article>``, else the body; navigation, complementary and search landmarks are cut
anywhere, and so are the header and footer of the page (not those of an article or a section).
A root chosen this way, or by the selector, is a section of its own: its header stays.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html

from .types import ScrapeError, ScrapeOptions


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Never content. (The favicons are read from <head> before it is cut.)
_NEVER_CONTENT = _tags(
    "script style noscript template head title meta link base iframe frame frameset object "
    "embed canvas source track param"
)
_SECTIONING = frozenset({"article", "main", "section", "aside", "nav"})
# only_main_content: cut anywhere in the root ...
_BOILERPLATE_TAGS = frozenset({"nav", "aside", "search"})
_BOILERPLATE_ROLES = frozenset({"navigation", "complementary", "search"})
# ... and cut when they belong to the page rather than to a section (HTML-AAM banner/contentinfo).
_PAGE_TAGS = frozenset({"header", "footer"})
_PAGE_ROLES = frozenset({"banner", "contentinfo"})
_ROWS = frozenset({"tr", "thead", "tbody", "tfoot"})

_HIDDEN_STYLE = re.compile(
    r"(?:^|[;\s])(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!\s*important\s*)?(?:;|$)",
    re.IGNORECASE,
)
_MARKED = "//*[@hidden or @style or @aria-hidden or @role]"

_parsers = threading.local()


@dataclass
class Content:
    """The content subtree, cleaned in place, and what the later stages work on."""

    root: Any  # what the markdown is made of
    # Every <img> and <svg> left, in document order; True: inside an aria-hidden subtree (listed
    # as decorative, already cut from the tree).
    media: list[tuple[Any, bool]] = field(default_factory=list)
    links: list[Any] = field(default_factory=list)  # every <a> left, in document order


def parse(markup: str) -> Any | None:
    """The lxml document of ``markup``, or None when there is nothing to parse."""
    if not markup or not markup.strip():
        return None
    try:
        return lxml_html.document_fromstring(markup.encode("utf-8", "replace"), parser=_parser())
    except (etree.ParserError, ValueError):
        return None


def _parser() -> lxml_html.HTMLParser:
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = lxml_html.HTMLParser(
            encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True
        )
        _parsers.parser = parser
    return parser


def base_href(doc: Any, base_url: str) -> str:
    """The URL relative links resolve against: the page's ``<base href>``, if it has one."""
    base = doc.find(".//head/base[@href]")
    if base is None:
        return base_url
    href = base.get("href", "").strip()
    return urljoin(base_url, href) if href else base_url


@lru_cache(maxsize=256)
def _selector_xpath(selector: str) -> str:
    """The XPath of a CSS selector (a string: compiled XPath objects are not shared by threads)."""
    from cssselect import SelectorError
    from lxml.cssselect import LxmlHTMLTranslator

    try:
        return LxmlHTMLTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise ScrapeError(f"invalid selector {selector!r}: {exc}", field="selector") from exc


class _Marks:
    """The elements whose attributes hide them or give them a role, found in one XPath query."""

    def __init__(self, doc: Any):
        self.hidden: set[Any] = set()
        self.aria_hidden: set[Any] = set()
        self.roles: dict[Any, str] = {}
        for el in doc.xpath(_MARKED):
            if el.get("hidden") is not None:
                self.hidden.add(el)
                continue
            style = el.get("style")
            if style and _HIDDEN_STYLE.search(style):
                self.hidden.add(el)
                continue
            if (el.get("aria-hidden") or "").strip().lower() == "true":
                self.aria_hidden.add(el)
            role = el.get("role")
            if role:
                self.roles[el] = role.strip().lower()

    def shown(self, el: Any) -> bool:
        if el in self.hidden:
            return False
        return not any(parent in self.hidden for parent in el.iterancestors())


def extract(doc: Any, options: ScrapeOptions, *, prescoped: bool) -> Content | None:
    """The content of ``doc`` as ``options`` scope it; None when that content is hidden.

    ``prescoped``: the HTML comes from scrape_dom.js, which has applied the selector already.
    """
    marks = _Marks(doc)
    body = doc.find("body")
    if body is None:
        body = doc
    root = body
    if options.selector and not prescoped:
        found = doc.xpath(_selector_xpath(options.selector))
        if not found:
            raise ScrapeError(f"selector {options.selector!r} matched nothing", field="selector")
        root = found[0]
    elif options.only_main_content:
        root = _main_content(body, marks)
    if not marks.shown(root):
        return None
    content = _Cleaner(options, marks).clean(root)
    if root.tag not in ("body", "html"):
        content.root = _contain(root)
    return content


def _contain(el: Any) -> Any:
    """A container of its own around a chosen root, which the later stages may then remove
    (an image not shown) or unwrap (a link read as text) like any other element. Rows get a
    table around them, as rows alone are no table to the converter."""
    container = el.makeelement("table" if el.tag in _ROWS else "div")
    el.tail = None  # what follows the root is not part of it
    el.addprevious(container)
    container.append(el)
    return container


def _main_content(body: Any, marks: _Marks) -> Any:
    for el in body.iter("main"):
        if marks.shown(el):
            return el
    for el, role in marks.roles.items():
        if role == "main" and marks.shown(el) and (el is body or body in el.iterancestors()):
            return el
    articles = [el for el in body.iter("article") if marks.shown(el)]
    if len(articles) == 1:
        return articles[0]
    return body


class _Cleaner:
    """One walk over the root: cuts what is not content, notes images and links on the way."""

    def __init__(self, options: ScrapeOptions, marks: _Marks):
        self.marks = marks
        self.main_only = options.only_main_content
        self.wants_images = options.wants_images
        self.never = _NEVER_CONTENT | frozenset(options.ignored_tags)
        if options.only_main_content:
            self.never |= _BOILERPLATE_TAGS

    def clean(self, root: Any) -> Content:
        content = Content(root)
        cut: list[Any] = []
        section_depth = 0 if root.tag in ("body", "html") else 1
        # Only only_main_content needs to know when a section ends.
        walker = etree.iterwalk(root, events=("start", "end") if self.main_only else ("start",))
        skipped = None  # an element whose subtree was skipped: its end event comes next
        for event, el in walker:
            tag = el.tag
            if event == "end":
                if el is skipped:
                    skipped = None
                elif tag in _SECTIONING:
                    section_depth -= 1
                continue
            if not isinstance(tag, str):
                walker.skip_subtree()
                skipped = el
                continue
            if el is not root and self.cut(el, tag, section_depth, content):
                cut.append(el)
                walker.skip_subtree()
                skipped = el
                continue
            if tag in _SECTIONING:
                section_depth += 1
            if tag == "img":
                content.media.append((el, False))
            elif tag == "a":
                content.links.append(el)
            elif tag == "svg":  # an image: its text (title, labels) is not page text
                content.media.append((el, False))
                walker.skip_subtree()
                skipped = el
        for el in cut:
            el.drop_tree()  # keeps its tail
        return content

    def cut(self, el: Any, tag: str, section_depth: int, content: Content) -> bool:
        marks = self.marks
        if tag in self.never or el in marks.hidden:
            return True
        role = marks.roles.get(el) if marks.roles else None
        if self.main_only:
            if role in _BOILERPLATE_ROLES:
                return True
            if section_depth == 0 and (tag in _PAGE_TAGS or role in _PAGE_ROLES):
                return True
        if el in marks.aria_hidden:
            if self.wants_images:
                content.media.extend((image, True) for image in self.images_under(el))
            return True
        return False

    def images_under(self, top: Any) -> list[Any]:
        """The images of an aria-hidden subtree that are not themselves hidden or cut."""
        found = []
        for el in top.iter("img", "svg"):
            node = el
            while node is not None and node is not top:
                if node in self.marks.hidden or node.tag in self.never:
                    break
                node = node.getparent()
            else:
                found.append(el)
        return found
