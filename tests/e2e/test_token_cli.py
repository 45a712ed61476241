"""`pqrbot token create|list|revoke` in a subprocess: the token printed once and only its hash in
the database, `list` never showing it, refusals in one line (exit 1), usage errors (exit 2), and a
token the CLI made opening the API on the real server until the CLI revokes it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from bot.access.service import RECENT
from storage.db import SqlDatabase
from tests.channels.web.conftest import make_world
from tests.e2e.conftest import Run, as_json

pytestmark = pytest.mark.slow

NOW = {"PQRBOT_NOW": "2026-11-10T10:00:00-05:00"}


def hashes(workdir: Path) -> dict[str, str]:
    with sqlite3.connect(workdir / "pqr.db") as db:
        return dict(db.execute("SELECT name, token_hash FROM api_tokens").fetchall())


def test_create_list_and_revoke(pqrbot: Run, workdir: Path) -> None:
    made = pqrbot("token", "create", "--name", "crm", "--role", "staff", env=NOW)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert made.stdout == secret + "\n" and secret.startswith("pqr_") and len(secret) > 40
    assert made.stderr.strip() == 'Token "crm" (staff) created. Keep it now: it will not be shown again.'
    doc = as_json(pqrbot("token", "create", "--name", "bi", "--role", "manager", "--json", env=NOW))
    assert set(doc) == {"name", "role", "token", "created_at"} and (doc["name"], doc["role"]) == ("bi", "manager")
    assert doc["created_at"].startswith("2026-11-10T10:00:00") and doc["created_at"].endswith("-05:00")

    stored = hashes(workdir)
    assert stored == {"crm": hashlib.sha256(secret.encode()).hexdigest(),
                      "bi": hashlib.sha256(doc["token"].encode()).hexdigest()}
    with sqlite3.connect(workdir / "pqr.db") as db:          # the secret itself is nowhere in the file
        dump = "\n".join(db.iterdump())
    assert secret not in dump and doc["token"] not in dump

    text, listed = pqrbot("token", "list"), pqrbot("token", "list", "--json")
    for out in (text, listed):
        assert out.returncode == 0 and secret not in out.stdout + out.stderr and doc["token"] not in out.stdout
    assert [line.split("\t")[:2] for line in text.stdout.splitlines()] == [["bi", "manager"], ["crm", "staff"]]
    assert json.loads(listed.stdout) == [
        {"name": "bi", "role": "manager", "created_at": doc["created_at"], "revoked_at": None, "last_used_at": None},
        {"name": "crm", "role": "staff", "created_at": doc["created_at"], "revoked_at": None, "last_used_at": None}]

    taken = pqrbot("token", "create", "--name", "crm", "--role", "manager")
    assert taken.returncode == 1 and taken.stderr == \
        'pqrbot: token: A token named "crm" already exists; choose another name or revoke that one.\n'
    for usage in (("token", "create", "--name", "x", "--role", "boss"), ("token", "create", "--role", "staff")):
        bad = pqrbot(*usage)
        assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1, usage

    later = {"PQRBOT_NOW": "2026-11-11T08:30:00-05:00"}
    gone = pqrbot("token", "revoke", "crm", env=later)
    assert gone.returncode == 0 and gone.stdout.strip() == 'Token "crm" revoked: the API no longer accepts it.'
    again = pqrbot("token", "revoke", "crm")
    assert again.returncode == 1 and again.stderr.startswith('pqrbot: token: There is no live token named "crm"')
    crm = next(k for k in as_json(pqrbot("token", "list", "--json")) if k["name"] == "crm")
    assert crm["revoked_at"] == "2026-11-11T08:30:00-05:00"
    assert hashes(workdir)["crm"] == stored["crm"]             # kept for the audit, never the secret


def test_messages_follow_the_language(pqrbot: Run) -> None:
    es = {"PQRBOT_LANG": "es"}
    assert pqrbot("token", "list", env=es).stdout.strip() == "No hay tokens de la API."
    gone = pqrbot("token", "revoke", "otro", env=es)
    assert gone.returncode == 1 and gone.stderr.startswith("pqrbot: token: No hay un token vigente llamado «otro»")


async def test_a_cli_token_opens_the_api_until_revoked(pqrbot: Run, workdir: Path) -> None:
    secret = pqrbot("token", "create", "--name", "crm", "--role", "staff").stdout.strip()
    db = SqlDatabase(f"sqlite+aiosqlite:///{workdir / 'pqr.db'}")
    try:
        async for w in make_world(db):
            auth = {"Authorization": f"Bearer {secret}"}
            r = await w.client.post("/api/v1/pqrs", json={"type": "queja", "name": "Ana", "subject": "Cobro"},
                                    headers=auth)
            assert r.status_code == 201 and r.json()["events"][0]["actor"] == "api:crm"
            assert (await w.client.get("/api/v1/penalties", headers=auth)).status_code == 403
            used = next(k for k in as_json(pqrbot("token", "list", "--json")) if k["name"] == "crm")
            assert dt.datetime.fromisoformat(used["last_used_at"]) == w.now[0]
            assert pqrbot("token", "revoke", "crm").returncode == 0
            w.tick(seconds=RECENT.total_seconds())     # revoked by another process: refused within RECENT
            r = await w.client.get("/api/v1/pqrs", headers=auth)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized"
            async with httpx.AsyncClient() as other:                # the same token, from anywhere
                assert (await other.get(f"{w.base}/api/v1/pqrs", headers=auth)).status_code == 401
    finally:
        await db.dispose()
