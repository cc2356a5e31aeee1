"""Which observed actions match a person's instructions, by shared words (no LLM needed)."""

import re
from typing import Any

WORD = re.compile(r"[a-z0-9]{2,}")
STOP_WORDS = {
    "the",
    "to",
    "on",
    "in",
    "of",
    "and",
    "or",
    "a",
    "an",
    "for",
    "with",
    "my",
    "me",
    "find",
    "all",
    "this",
}


def _searchable(description: str) -> str:
    """The words a person would match on: text and attribute values, not tag or attribute
    names (every button has type=...), nor URLs."""
    text = re.sub(r'(?:href|src)="[^"]*"', " ", description.lower())
    text = re.sub(r'[\w-]+="', ' "', text)
    return re.sub(r"</?[a-z0-9]+", " ", text)


def lexical_rank(actions: list[dict[str, Any]], instructions: str) -> list[dict[str, Any]]:
    """Actions sharing words with the instructions, best first; all of them if none does."""
    wanted = {w for w in WORD.findall(instructions.lower()) if w not in STOP_WORDS}
    scored = []
    for position, action in enumerate(actions):
        words = set(WORD.findall(_searchable(action["description"])))
        score = sum(1 for w in wanted if w in words or any(v.startswith(w) for v in words))
        if score:
            scored.append((-score, position, action))
    return [a for _, _, a in sorted(scored)] or actions
