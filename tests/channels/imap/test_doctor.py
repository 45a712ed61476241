"""`pqrbot doctor` on IMAP accounts, through the CLI against a real Dovecot: one line per account
(connect, log in, select), what is wrong said in that line, nothing read, moved or created."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from storage.db import SqlDatabase
from tests.channels.imap.conftest import PROCESSED
from tests.channels.imap.dovecot import PASSWORD, Dovecot, mail
from tests.conftest import sqlite_url


@pytest.fixture
async def migrated(tmp_path: Path) -> AsyncIterator[str]:
    url = sqlite_url(tmp_path)
    db = SqlDatabase(url)
    await db.upgrade()
    await db.dispose()
    yield url


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(tmp_path: Path, db_url: str, *accounts: dict[str, Any]) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({"database": {"url": db_url}, "channels": {
        "console": {"enabled": False}, "email": {"enabled": False},
        "imap": {"enabled": True, "accounts": list(accounts)}}}))
    return path


def _account(name: str, port: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "host": "127.0.0.1", "port": port, "security": "none", "username": "pqr@empresa.co",
            "password_env": "IMAP_OK", **extra}


async def _doctor(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = await asyncio.to_thread(main, ["--config", str(path), "doctor"])
    out, _ = capsys.readouterr()
    return code, out.splitlines()


async def test_each_account_is_one_line_saying_what_is_wrong(
        dovecot: Dovecot, tmp_path: Path, migrated: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PQRBOT_LANG", "en")
    monkeypatch.setenv("IMAP_OK", PASSWORD)
    monkeypatch.setenv("IMAP_BAD", "not-the-password")
    monkeypatch.delenv("IMAP_UNSET", raising=False)
    await dovecot.append("INBOX", mail(1), mail(2))
    closed = _closed_port()
    path = _config(tmp_path, migrated, _account("good", dovecot.port),
                   _account("wrong", dovecot.port, password_env="IMAP_BAD"),
                   _account("down", closed), _account("nofolder", dovecot.port, folder="Nope"),
                   _account("unset", dovecot.port, password_env="IMAP_UNSET"))
    code, lines = await _doctor(path, capsys)
    assert code == 1
    imap = [line for line in lines if "IMAP" in line or "imap" in line]
    assert len(imap) == 5, lines
    good, wrong, down, nofolder, unset = imap
    assert good.startswith("ok") and f"IMAP good (127.0.0.1:{dovecot.port})" in good
    assert "opens INBOX (2 messages waiting)" in good and "will create it" in good
    assert wrong.startswith("FAIL") and "refused pqr@empresa.co's login" in wrong and "IMAP_BAD" in wrong
    assert down.startswith("FAIL") and f"127.0.0.1:{closed}): no answer" in down
    assert nofolder.startswith("FAIL") and "cannot open the folder Nope" in nofolder
    assert unset.startswith("FAIL") and "IMAP_UNSET" in unset and "channels.imap.accounts.4.password_env" in unset
    assert PASSWORD not in "\n".join(lines)
    assert await dovecot.count("INBOX") == 2                   # nothing taken, moved or created
    assert PROCESSED not in await dovecot.folders()
