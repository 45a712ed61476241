"""The start-up banner's lines, the short names of port holders, and README's "Start here", which
shows the banner of the repository's config.yaml and must stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.process.banner import _version, banner, database_shown
from bot.config import parse_config
from bot.process.port_holder import describe

ROOT = Path(__file__).resolve().parents[2]


def test_readme_shows_the_banner_of_the_shipped_config() -> None:
    config = parse_config(yaml.safe_load((ROOT / "config.yaml").read_text()))
    lines = banner(config, smtp=("127.0.0.1", 2525), outgoing=Path("data/mail/outgoing"),
                   log_file=Path("data/pqrbot.log"))
    shown = (ROOT / "README.md").read_text().replace("pqrbot 0.1.0 ", f"pqrbot {_version()} ")
    for line in lines:
        assert f"\n{line}\n" in shown, f"README's banner lacks {line!r}"


def test_off_channels_and_a_relay_say_why_and_where() -> None:
    config = parse_config({"language": "en", "database": {"url": "postgresql+asyncpg://pqr:s3cret@db:5432/pqr"},
                           "channels": {"email": {"enabled": True, "relay": {"host": "smtp.x.co", "port": 587,
                                                                              "starttls": True}},
                                        "slack": {"enabled": True, "mode": "http"}, "telegram": {"enabled": False}}})
    lines = banner(config, smtp=("127.0.0.1", 2626), outgoing=Path("data/mail/outgoing"), log_file=None,
                   web_url="http://127.0.0.1:8080")
    assert lines[1:] == [
        "  Database: postgresql+asyncpg://pqr:***@db:5432/pqr",
        "  Incoming mail: SMTP on 127.0.0.1:2626 for pqr.example.co",
        "  Outgoing mail: through the relay smtp.x.co:587 (STARTTLS)",
        "  Web: http://127.0.0.1:8080",
        "  Slack: HTTP on 127.0.0.1:3000 (POST /slack/events)",
        "  Telegram: off (channels.telegram.enabled is false)",
        "Ctrl-C (or closing this terminal) stops pqrbot; Ctrl-D only ends the console.",
    ]
    off = banner(parse_config({"language": "en", "channels": {"email": {"enabled": False}}}), smtp=None,
                 outgoing=Path("data/mail/outgoing"), log_file=Path("data/pqrbot.log"))
    assert "  Email: off (channels.email.enabled is false)" in off
    assert "  Log: data/pqrbot.log (only warnings and errors are shown here)" in off


@pytest.mark.parametrize(("url", "shown"), [
    ("sqlite+aiosqlite:///data/pqrbot.db", "data/pqrbot.db"),
    ("sqlite+aiosqlite:////srv/pqr/pqr.db?timeout=5", "/srv/pqr/pqr.db"),
    ("postgresql+asyncpg://pqrbot@127.0.0.1:5432/pqrbot", "postgresql+asyncpg://pqrbot@127.0.0.1:5432/pqrbot"),
    ("postgresql+asyncpg://u:p%40ss@h/db", "postgresql+asyncpg://u:***@h/db"),
])
def test_the_database_is_shown_without_its_password(url: str, shown: str) -> None:
    assert database_shown(url) == shown


@pytest.mark.parametrize(("cmdline", "name"), [
    (["/usr/bin/python3", "-m", "bot", "--config", "/tmp/c.yaml", "run"], "pqrbot run"),
    (["/srv/.venv/bin/python", "/srv/.venv/bin/pqrbot", "run"], "pqrbot run"),
    (["/usr/sbin/exim4", "-bd", "-q30m"], "exim4 -bd -q30m"),
    (["python3", "-m", "http.server", "2525"], "http.server 2525"),
    ([], "?"),
])
def test_a_holder_is_named_by_its_command_line(cmdline: list[str], name: str) -> None:
    assert describe(cmdline) == name
    assert re.fullmatch(r".{1,80}", describe(["x" * 200]))
