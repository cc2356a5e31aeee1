"""Every file a document names in backticks exists, and every `file.py::name` it cites (a test
that proves a claim, a function the text explains) is defined in that file: a reader who follows
a reference finds what it promises."""

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    "README.md",
    "bench/README.md",
    *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")),
]
CODE_SPAN = re.compile(r"`([^`\n]+)`")
# A path from the repository's root (at least one folder), optionally with ::name.
REFERENCE = re.compile(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]+\.py)(?![\w/])(?:::(\w+))?")


def references(text: str) -> list[tuple[str, str | None]]:
    return [
        (found.group(1), found.group(2))
        for span in CODE_SPAN.finditer(text)
        for found in REFERENCE.finditer(span.group(1))
    ]


@cache
def names_in(path: Path) -> frozenset[str]:
    """Functions, classes (methods included) and module-level assignments defined in a file."""
    tree = ast.parse(path.read_text())
    names = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return frozenset(names)


def test_the_parser_finds_paths_and_names_and_nothing_else():
    text = (
        "See `tests/a/test_b.py::test_c`, `sessions_app/worker/runner.py::_locked_command`, "
        "`.venv/bin/pytest tests/e2e/screenshots.py -k x`, `manage.py serve`, `common.py`, "
        "`browser.launcher` and tests/outside/code_spans.py."
    )
    assert references(text) == [
        ("tests/a/test_b.py", "test_c"),
        ("sessions_app/worker/runner.py", "_locked_command"),
        ("tests/e2e/screenshots.py", None),
    ]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_file_and_name_a_document_cites_exists(document):
    missing = []
    for path, name in references((ROOT / document).read_text()):
        file = ROOT / path
        if not file.is_file():
            missing.append(path)
        elif name is not None and name not in names_in(file):
            missing.append(f"{path}::{name}")
    assert missing == []
