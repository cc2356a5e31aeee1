"""Every setting the server reads is documented (README table, .env.example), and every setting
the documentation names is one the server reads: no typo an operator would copy in vain."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(
    r"\b((?:PERISCOPE|DJANGO|LLM)_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL|REDIS_URL|SEARCH_URL)\b"
)
# Read by Django or the tooling rather than by console/settings.py.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}
# The variables an exported agent script reads (its secrets), not the server's settings.
SCRIPT_VARIABLE = re.compile(r"PERISCOPE_(VAULT_(?!KEYRING)|VALUE_)\w+")


def settings_read() -> set[str]:
    source = (ROOT / "console" / "settings.py").read_text()
    return set(re.findall(r'env_\w+\(\s*"([A-Z0-9_]+)"', source))


def named_in(text: str) -> set[str]:
    """The settings a text names; NAME_FILE (a secret given as a file) counts as NAME."""
    read = settings_read()
    names = {name if name in read else name.removesuffix("_FILE") for name in NAME.findall(text)}
    return {name for name in names - NOT_SETTINGS if not SCRIPT_VARIABLE.fullmatch(name)}


def readme_table() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Configuration")
    return readme[start : readme.index("\n## ", start + 1)]


def test_every_setting_is_in_the_readme_table_and_env_example():
    env_example = (ROOT / ".env.example").read_text()
    listed = {
        line.lstrip("# ").split("=", 1)[0] for line in env_example.splitlines() if "=" in line
    }
    read = settings_read()
    assert read - named_in(readme_table()) == set()
    assert read - listed == set()


@pytest.mark.parametrize(
    "doc", ["README.md", ".env.example", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))]
)
def test_every_setting_a_document_names_exists(doc):
    path = ROOT / doc if (ROOT / doc).exists() else ROOT / "docs" / doc
    assert named_in(path.read_text()) - settings_read() == set()
