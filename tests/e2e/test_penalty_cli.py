"""`pqrbot penalty …`, `pqrbot report penalties …` and `pqrbot contracts …` in a subprocess."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import Run, as_json

pytestmark = pytest.mark.slow

KEYS = {"id", "client", "category", "amount", "currency", "status", "area", "pqr", "events"}


def test_penalty_from_registration_to_report(pqrbot: Run, workdir: Path) -> None:
    new = as_json(pqrbot("penalty", "new", "--client", "Cliente S.A.", "--category", "kpi_ans", "--amount",
                         "1500000.50", "--area", "laboratorio", "--description", "ANS incumplido", "--json"))
    assert KEYS <= set(new) and new["amount"] == "1500000.50" and new["currency"] == "COP"
    assert new["status"] == "notificada" and new["pqr"] is None
    assert {"kind", "actor", "at", "from", "to", "reason"} <= set(new["events"][0])
    pid = str(new["id"])
    second = as_json(pqrbot("penalty", "new", "--client", "Otro", "--category", "postventa", "--amount", "0.25",
                            "--currency", "usd", "--area", "logistica", "--json"))
    assert (second["amount"], second["currency"]) == ("0.25", "USD")

    evidence = workdir / "acta.txt"
    evidence.write_text("acta de entrega")
    refused = pqrbot("penalty", "evidence", pid, "--text", "x", "--as", "telegram:999")
    assert refused.returncode == 1 and refused.stderr.startswith("pqrbot: penalty:")
    ok = pqrbot("penalty", "evidence", pid, "--text", "Informe", "--file", str(evidence), "--as", "slack:U0STAFF")
    assert ok.returncode == 0, ok.stderr
    shown = as_json(pqrbot("penalty", "show", pid, "--json"))
    assert shown["status"] == "en_evaluacion" and shown["evidence"][0]["files"][0]["filename"] == "acta.txt"

    staff = pqrbot("penalty", "decide", pid, "--approve", "--reason", "sí", "--as", "slack:U0STAFF")
    assert staff.returncode == 1 and "managers" in staff.stderr and len(staff.stderr.splitlines()) == 1
    decided = as_json(pqrbot("penalty", "decide", pid, "--approve", "--reason", "Incumplimos", "--as",
                             "slack:U0BOSS", "--json"))
    assert decided["status"] == "aprobada"        # no client contact on file: stays decided
    again = pqrbot("penalty", "decide", pid, "--reject", "--reason", "no", "--as", "slack:U0BOSS")
    assert again.returncode == 1 and "already decided" in again.stderr
    assert pqrbot("penalty", "decide", pid, "--approve", "--reject", "--reason", "x", "--as", "y").returncode == 2
    assert pqrbot("penalty", "new", "--client", "x", "--category", "nope", "--amount", "1", "--area", "a").returncode == 2
    bad = pqrbot("penalty", "new", "--client", "x", "--category", "kpi_ans", "--amount", "1.001", "--area", "a")
    assert bad.returncode == 1
    assert pqrbot("penalty", "show", "999").returncode == 1

    listed = as_json(pqrbot("penalty", "list", "--json"))
    assert [p["id"] for p in listed] == [new["id"], second["id"]]

    xlsx = workdir / "dic.xlsx"
    month = new["events"][0]["at"][:7]
    report = as_json(pqrbot("report", "penalties", "--month", month, "--xlsx", str(xlsx), "--json"))
    assert report["by_category"] == {"kpi_ans": {"COP": "1500000.50"}, "postventa": {"USD": "0.25"}}
    assert report["by_status"] == {"aprobada": 1, "notificada": 1}
    wb = load_workbook(xlsx)
    amounts = [Decimal(str(r[8])) for r in wb["Detalle"].iter_rows(min_row=2, values_only=True)]
    assert amounts == [Decimal("1500000.50"), Decimal("0.25")]
    assert pqrbot("report", "penalties", "--month", "diciembre").returncode == 1


def test_contracts_reload_list_and_linking(pqrbot: Run, workdir: Path) -> None:
    cfg = json.loads((workdir / "config.yaml").read_text())
    cfg["contracts"] = {"files": ["acme.yaml"]}
    (workdir / "config.yaml").write_text(json.dumps(cfg))
    (workdir / "acme.yaml").write_text(
        "clients:\n  - name: Acme\n    email_domains: [acme.co]\n"
        "    contract: {name: ANS-ACME, targets: {queja: {resolution: 2d}}}\n")
    loaded = pqrbot("contracts", "reload")
    assert loaded.returncode == 0 and "1 client, 1 contract" in loaded.stdout
    listed = as_json(pqrbot("contracts", "list", "--json"))
    assert listed["contracts"][0]["targets"] == {"queja": {"first_response": None, "resolution": "2d"}}
    filed = as_json(pqrbot("pqr", "new", "--type", "queja", "--channel", "email", "--name", "Ana", "--email",
                           "ana@acme.co", "--subject", "x", "--received-at", "2026-12-18T10:00:00-05:00", "--json"))
    assert filed["contract"] == "ANS-ACME" and filed["due_at"] == "2026-12-22T23:59:59-05:00"
    (workdir / "acme.yaml").write_text("clients: [{name: Acme, contract: {name: K, targets: {queja: {resolution: 2w}}}}]")
    broken = pqrbot("contracts", "reload")
    assert broken.returncode == 1 and "clients.0.contract.targets.queja.resolution" in broken.stderr
