"""One-time codes and links found in a message, so an agent can be handed "the latest code"
without reading the whole body.

Codes are only taken where the message says they are codes: a candidate must sit near a word
like "code", "verification" or "OTP" (not "promo code" or "zip code"), or stand alone on its own
line, as the big code in an HTML mail does. Candidates are ranked by how close that word is.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

MAX_CODES = 5
MAX_LINKS = 50
NEAR = 80  # characters between a code and the word that announces it

_KEYWORD = re.compile(
    r"\b(?:codes?|passcodes?|pin|otp|one[- ]time|verification|verify|verifying|confirmation|confirm"
    r"|security|authentication|authenticate|2fa|mfa|two[- ]factor|log[- ]?in|sign[- ]?in)\b",
    re.IGNORECASE,
)
# "promo code 123456" is not a one-time code.
_NOT_A_CODE_BEFORE = re.compile(
    r"\b(?:promo|promotional|coupon|discount|voucher|gift|referral|zip|postal|post|area|country|dialing"
    r"|source|qr|bar|tracking|reference|order|invoice|booking|customer|account)\s*$",
    re.IGNORECASE,
)
_CANDIDATES = (
    # G-123456 (Google's prefix is not typed): the digits.
    re.compile(r"(?<![\w-])[A-Z]-(\d{4,8})(?![\w-])"),
    # 123 456 / 123-456: typed without the separator.
    re.compile(r"(?<![\w.,:/#$€£+-])(?<!\d[ -])(\d{3})[ -](\d{3})(?![ -]?\d)(?![\w.,:/-]?\w)"),
    # 4 to 8 digits on their own: not part of a price, a time, a decimal, a version or a phone.
    re.compile(r"(?<![\w.,:/#$€£+-])(?<!\d[ -])(\d{4,8})(?![\w$€£%]|[.,:/ -]\d)"),
    # Mixed letters and digits in capitals (ABC123, XKP-4QZ): kept as written.
    re.compile(
        r"(?<![\w-])((?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])(?:[A-Z0-9]{6,10}|[A-Z0-9]{3,4}-[A-Z0-9]{3,4}))(?![\w-])"
    ),
)
# "...code SPRING25 for 25% off": a discount, not a one-time code.
_DISCOUNT_AFTER = re.compile(
    r".{0,30}?(?:%\s*off|percent off|off your|discount|coupon)", re.IGNORECASE | re.DOTALL
)
_YEAR = re.compile(r"(?:19|20)\d\d")

_URL = re.compile(r"https?://[^\s<>\"'`\]\[{}|\\^]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)>'\""
_VERIFICATION = re.compile(
    r"verif|confirm|activat|validat|magic|sign[-_ ]?in|log[-_ ]?in|auth|token|reset|unlock|approve"
    r"|accept|invit|one[-_ ]?time|otp",
    re.IGNORECASE,
)
_NOT_VERIFICATION = re.compile(
    r"unsubscribe|opt[-_ ]?out|preferences|privacy|terms|legal|help|support|contact|facebook|twitter"
    r"|linkedin|instagram|youtube|tracking|pixel",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    verification: bool

    def as_dict(self) -> dict:
        return {"url": self.url, "text": self.text, "verification": self.verification}


def find_codes(*parts: str | None) -> list[str]:
    """Likely one-time codes in these texts (e.g. subject and body), most likely first."""
    scored: dict[str, tuple[int, int]] = {}
    order = 0
    for text in parts:
        if not text:
            continue
        keywords = [
            m for m in _KEYWORD.finditer(text) if not _NOT_A_CODE_BEFORE.search(text[: m.start()])
        ]
        taken: list[tuple[int, int]] = []
        for pattern in _CANDIDATES:
            for match in pattern.finditer(text):
                span = match.span()
                if any(span[0] < end and start < span[1] for start, end in taken):
                    continue  # already part of a better-shaped candidate
                code = "".join(g for g in match.groups() if g)
                distance = _keyword_distance(text, span, keywords)
                if distance is None and not _alone_on_its_line(text, span):
                    continue
                if _YEAR.fullmatch(code) and (distance is None or distance > 12):
                    continue  # "© 2025" in a footer
                if _DISCOUNT_AFTER.match(text, span[1]):
                    continue
                taken.append(span)
                rank = (distance if distance is not None else NEAR, order)
                order += 1
                if code not in scored or rank < scored[code]:
                    scored[code] = rank
    return sorted(scored, key=scored.__getitem__)[:MAX_CODES]


def _keyword_distance(text: str, span: tuple[int, int], keywords) -> int | None:
    best = None
    for keyword in keywords:
        if keyword.end() <= span[0]:
            gap = text[keyword.end() : span[0]]
            distance = len(gap)
        elif keyword.start() >= span[1]:
            gap = text[span[1] : keyword.start()]
            distance = (
                len(gap) + 5
            )  # "123456 is your code" is a little less sure than "code: 123456"
        else:
            continue
        if distance > NEAR or gap.count("\n") > 2:
            continue
        if best is None or distance < best:
            best = distance
    return best


def _alone_on_its_line(text: str, span: tuple[int, int]) -> bool:
    start = text.rfind("\n", 0, span[0]) + 1
    end = text.find("\n", span[1])
    line = text[start : end if end != -1 else len(text)]
    return line.strip() == text[span[0] : span[1]].strip()


def find_links(text: str | None, anchors: list[tuple[str, str]] = ()) -> list[Link]:
    """http(s) links from anchors (with their text) and from the plain text; verification links
    (confirm, verify, magic sign-in, reset...) first, then the others, each in message order."""
    seen: dict[str, str] = {}
    for url, label in anchors:
        url = url.strip()
        if url.lower().startswith(("http://", "https://")) and url not in seen:
            seen[url] = " ".join(label.split())[:200]
    for match in _URL.finditer(text or ""):
        url = match.group(0).rstrip(_URL_TRAILING)
        seen.setdefault(url, "")
    links = [Link(url, label, _is_verification(url, label)) for url, label in seen.items()]
    links.sort(key=lambda link: not link.verification)
    return links[:MAX_LINKS]


def _is_verification(url: str, label: str) -> bool:
    haystack = f"{url} {label}"
    return bool(_VERIFICATION.search(haystack)) and not _NOT_VERIFICATION.search(haystack)


class _HtmlText(HTMLParser):
    BLOCKS = {
        "p",
        "div",
        "br",
        "tr",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "td",
        "th",
        "blockquote",
        "pre",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "ul",
        "ol",
        "center",
    }
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.anchors: list[tuple[str, str]] = []
        self._href: str | None = None
        self._label: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.BLOCKS:
            self.chunks.append("\n")
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._label = []

    def handle_startendtag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.chunks.append("\n")
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, "".join(self._label)))
            self._href = None

    def handle_data(self, data):
        if self._skip:
            return
        self.chunks.append(data)
        if self._href is not None:
            self._label.append(data)


def html_to_text(html: str) -> tuple[str, list[tuple[str, str]]]:
    """The visible text of an HTML body (one line per block) and its anchors as (href, text)."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.chunks).splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, parser.anchors
