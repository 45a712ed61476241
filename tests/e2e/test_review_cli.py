"""`pqrbot pqr close|approve|return` with config `approval` in a subprocess: a staff close waits in
en_revision, a manager approves (the closing goes to the customer's outbox) or returns it; the
refusals exit 1 with one line and are in the audit trail."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Run, as_json

pytestmark = pytest.mark.slow

NEW = ["pqr", "new", "--type", "queja", "--channel", "phone", "--name", "Ana", "--email", "ana@example.co",
       "--subject", "Cobro doble", "--body", "Me cobraron dos veces", "--received-at", "2026-12-18T10:00:00-05:00"]
STAFF, BOSS = "slack:U0STAFF", "slack:U0BOSS"


@pytest.fixture
def pqrbot(pqrbot: Run) -> Run:
    """The conftest's runner at a fixed instant after the filings (PQRBOT_NOW): events keep their order."""
    def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return pqrbot(*args, **{**kw, "env": {"PQRBOT_NOW": "2026-12-21T09:00:00-05:00", **(kw.get("env") or {})}})
    return run


@pytest.fixture
def approving(workdir: Path) -> Path:
    cfg = json.loads((workdir / "config.yaml").read_text())
    cfg["approval"] = {"types": ["queja"], "clients": []}
    cfg["channels"]["email"] = {"enabled": True, "listen": {"port": 0}}
    (workdir / "config.yaml").write_text(json.dumps(cfg))
    return workdir


def closings(pqrbot: Run) -> list[dict[str, object]]:
    return [r for r in as_json(pqrbot("outbox", "list", "--json")) if r["kind"] == "closing"]


def test_draft_waits_then_is_approved_and_sent(pqrbot: Run, approving: Path) -> None:
    rad = as_json(pqrbot(*NEW, "--json"))["radicado"]
    doc = as_json(pqrbot("pqr", "close", rad, "--text", "Le devolvemos el cobro.", "--as", STAFF, "--json"))
    assert doc["status"] == "en_revision" and doc["sla"] != "closed"
    assert doc["events"][-1]["to"] == "en_revision" and doc["events"][-1]["reason"] == "Le devolvemos el cobro."
    assert closings(pqrbot) == []                                    # the customer gets nothing yet
    assert as_json(pqrbot("pqr", "list", "--status", "en_revision", "--json"))[0]["radicado"] == rad
    assert [p["radicado"] for p in as_json(pqrbot("digest", "--at", "2026-12-21T09:00:00-05:00", "--json"))
            ["awaiting_approval"]] == [rad]

    again = pqrbot("pqr", "close", rad, "--text", "Otra", "--as", STAFF)
    assert again.returncode == 1 and "is waiting for a manager" in again.stderr
    assert len(again.stderr.splitlines()) == 1
    staff = pqrbot("pqr", "approve", rad, "--as", STAFF)
    assert staff.returncode == 1 and staff.stderr.startswith("pqrbot: Only a manager can approve")

    done = pqrbot("pqr", "approve", rad, "--as", BOSS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{rad}: answer approved and sent to the customer; the PQR is closed."
    shown = as_json(pqrbot("pqr", "show", rad, "--json"))
    assert shown["status"] == "cerrada"
    closed = shown["events"][-1]
    assert (closed["actor"], closed["from"], closed["to"]) == (BOSS, "en_revision", "cerrada")
    assert closed["data"]["drafter"] == STAFF and closed["data"]["approver"] == BOSS
    out = [m for m in shown["messages"] if m["direction"] == "out"]
    assert [(m["body"], m["author"]) for m in out] == [("Le devolvemos el cobro.", STAFF)]
    rows = closings(pqrbot)
    assert [(r["channel"], r["destination"]) for r in rows] == [("email", "ana@example.co")]

    second = pqrbot("pqr", "approve", rad, "--as", BOSS)              # a second press changes nothing
    assert second.returncode == 1 and "already approved by slack:U0BOSS" in second.stderr
    assert len(closings(pqrbot)) == 1
    refused = [e for e in as_json(pqrbot("pqr", "show", rad, "--json"))["events"] if e["kind"] == "refused"]
    assert [e["reason"] for e in refused] == ["not_manager", "not_in_review:cerrada"]


def test_return_sends_it_back_and_a_manager_closes_at_once(pqrbot: Run, approving: Path) -> None:
    rad = as_json(pqrbot(*NEW, "--json"))["radicado"]
    assert pqrbot("pqr", "close", rad, "--text", "Borrador", "--as", STAFF).stdout.strip().endswith(
        "once a manager approves it.")
    assert pqrbot("pqr", "return", rad, "--as", BOSS).returncode == 2          # --reason is required
    back = as_json(pqrbot("pqr", "return", rad, "--reason", "Falta el valor", "--as", BOSS, "--json"))
    assert back["status"] == "en_tramite"
    assert (back["events"][-1]["reason"], back["events"][-1]["data"]["drafter"]) == ("Falta el valor", STAFF)
    assert closings(pqrbot) == []
    late = pqrbot("pqr", "return", rad, "--reason", "otra vez", "--as", BOSS)
    assert late.returncode == 1 and "already returned" in late.stderr

    own = as_json(pqrbot("pqr", "close", rad, "--text", "Respuesta de la gerencia", "--as", BOSS, "--json"))
    assert own["status"] == "cerrada"                               # a manager's own close goes out at once
    assert len(closings(pqrbot)) == 1


def test_without_approval_configured_nothing_waits(pqrbot: Run) -> None:
    rad = as_json(pqrbot(*NEW, "--json"))["radicado"]
    assert as_json(pqrbot("pqr", "close", rad, "--text", "Listo", "--as", STAFF, "--json"))["status"] == "cerrada"
    missing = pqrbot("pqr", "approve", rad, "--as", BOSS)
    assert missing.returncode == 1 and "no answer awaiting approval" in missing.stderr
