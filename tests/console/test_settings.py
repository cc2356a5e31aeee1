"""Settings read from the environment: what a deployment writes is what Django gets."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from console.settings import database_from_url


def test_a_database_url_keeps_its_query_options():
    config = database_from_url(
        "postgres://app:p%40ss@db.internal:5433/periscope?sslmode=require&connect_timeout=5"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "app",
        "p@ss",
        "db.internal",
        5433,
    )
    assert config["OPTIONS"]["sslmode"] == "require"
    assert str(config["OPTIONS"]["connect_timeout"]) == "5"


def test_a_sqlite_url_gets_the_concurrent_writer_settings(tmp_path):
    config = database_from_url(f"sqlite:///{tmp_path}/x.sqlite3")
    assert str(config["NAME"]) == f"{tmp_path}/x.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_an_unsupported_database_is_refused_with_what_to_use():
    with pytest.raises(ImproperlyConfigured, match="postgres://"):
        database_from_url("mysql://root@localhost/periscope")


def test_the_production_settings_the_readme_lists_pass_django_s_deployment_checks(tmp_path):
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PERISCOPE_"))}
    env |= {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": "periscope.example.com",
        "PERISCOPE_PUBLIC_URL": "https://periscope.example.com",
        "PERISCOPE_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
