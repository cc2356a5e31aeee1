"""Link placeholders: short tokens ("<link_1>", "<img_1>") standing for URLs in the markdown.

Asked for with use_link_placeholders, they keep long URLs out of an LLM's prompt; the real URLs
are put back in its answer. Each distinct URL gets one token, numbered in document order, links
and images counted apart. One set of tokens spans the page and its frames.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"<(?:link|img)_\d+>")


class Placeholders:
    def __init__(self) -> None:
        self.urls: dict[str, str] = {}  # token -> URL
        self._links: dict[str, str] = {}  # URL -> token
        self._images: dict[str, str] = {}

    def link(self, url: str) -> str:
        return self._token(self._links, "link", url)

    def image(self, url: str) -> str:
        return self._token(self._images, "img", url)

    def _token(self, tokens: dict[str, str], kind: str, url: str) -> str:
        token = tokens.get(url)
        if token is None:
            token = tokens[url] = f"<{kind}_{len(tokens) + 1}>"
            self.urls[token] = url
        return token


def restore(text: str, urls: dict[str, str]) -> str:
    """``text`` with each known token replaced by its URL (unknown tokens are left as they are)."""
    if not urls or "<" not in text:
        return text
    return _TOKEN.sub(lambda m: urls.get(m.group(0), m.group(0)), text)
