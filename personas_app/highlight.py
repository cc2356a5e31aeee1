"""Message text for the console, with the extracted codes and links marked up. Everything else
is escaped: the text comes from whoever sent the message."""

import re

from django.templatetags.static import static
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

_URL = re.compile(r"https?://[^\s<>\"'`\]\[{}|\\^]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)>'\""


def _code_pattern(code: str) -> str:
    # "123456" was found as "123 456" or "G-123456" too: allow one separator between characters.
    return r"(?<![\w])" + r"[ -]?".join(re.escape(c) for c in code) + r"(?![\w])"


def highlight(text: str | None, codes: list[str]) -> SafeString:
    if not text:
        return mark_safe("")
    patterns = [f"(?P<url>{_URL.pattern})"]
    if codes:
        patterns.append(
            "(?P<code>"
            + "|".join(_code_pattern(c) for c in sorted(codes, key=len, reverse=True))
            + ")"
        )
    combined = re.compile("|".join(patterns), re.IGNORECASE)
    out: list[str] = []
    position = 0
    for match in combined.finditer(text):
        start, end = match.span()
        if match.group("url"):
            url = match.group(0).rstrip(_URL_TRAILING)
            end = start + len(url)
            piece = format_html(
                '<a class="hl-link" href="{}" target="_blank" rel="noopener noreferrer nofollow">{}</a>',
                url,
                url,
            )
        else:
            piece = format_html('<mark class="hl-code">{}</mark>', match.group(0))
        out.append(conditional_escape(text[position:start]))
        out.append(piece)
        position = end
    out.append(conditional_escape(text[position:]))
    return mark_safe("".join(out))  # every piece above is escaped


def mail_srcdoc(html: str) -> str:
    """The document shown in the message's sandboxed iframe (no scripts can run there)."""
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="{static("css/mail-frame.css")}"></head>'
        f"<body>{html}</body></html>"
    )
