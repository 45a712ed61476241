"""`pqrbot report kpis|client|monthly` in a subprocess: the JSON keys DESIGN.md fixes, the text
summary in both languages, the files, and bad input answered in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Run, as_json

pytestmark = pytest.mark.slow

KPI_KEYS = {"from", "to", "filed", "answered", "on_time_pct", "ans_compliance_pct", "first_response_hours",
            "resolution_business_days", "open_at_end", "breached_open", "backlog_age", "extensions", "reopened",
            "by_type", "by_channel", "by_area", "by_cause", "by_client"}
CLIENT_KEYS = {"client", "period", "from", "to", "targets", "ans_compliance_pct", "breaches", "penalties", "kpis",
               "nps", "trend"}


def _contracts(workdir: Path) -> None:
    (workdir / "acme.yaml").write_text(json.dumps({"clients": [
        {"name": "Acme S.A.S.", "email_domains": ["acme.co"],
         "contract": {"name": "ANS-ACME", "targets": {"queja": {"first_response": "4h", "resolution": "3d"}}}}]}))
    cfg = json.loads((workdir / "config.yaml").read_text())
    cfg["contracts"] = {"files": [str(workdir / "acme.yaml")]}
    (workdir / "config.yaml").write_text(json.dumps(cfg))


def test_kpis_client_and_monthly_reports(pqrbot: Run, workdir: Path) -> None:
    _contracts(workdir)
    for email, when in (("compras@acme.co", "2026-11-10T09:00:00-05:00"), ("ana@correo.co", "2026-11-12T10:00:00-05:00")):
        assert pqrbot("pqr", "new", "--type", "queja", "--channel", "email", "--name", "Cliente", "--email", email,
                      "--subject", "Cobro", "--body", "=HYPERLINK(\"http://x\")", "--received-at", when).returncode == 0
    kpis = as_json(pqrbot("report", "kpis", "--from", "2026-11-01", "--to", "2026-12-01", "--json"))
    assert set(kpis) == KPI_KEYS and kpis["filed"] == 2 and kpis["open_at_end"] == 2
    assert set(kpis["backlog_age"]) == {"0-5", "6-10", "11-15", ">15"}
    assert kpis["by_client"]["Acme S.A.S."] == {"filed": 1, "answered": 0, "on_time_pct": None}
    only = as_json(pqrbot("report", "kpis", "--from", "2026-11-01", "--to", "2026-12-01", "--client", "acme s.a.s.",
                          "--json"))
    assert only["filed"] == 1
    client = as_json(pqrbot("report", "client", "--client", "Acme S.A.S.", "--period", "2026-Q4", "--json"))
    assert set(client) == CLIENT_KEYS and client["period"] == "2026-Q4"
    assert {(t["kind"], t["target"]) for t in client["targets"]} == {("first_response", "4h"), ("resolution", "3d")}
    assert len(client["trend"]) == 5
    monthly = as_json(pqrbot("report", "monthly", "--month", "2026-11", "--json"))
    assert monthly["clients"][0]["client"] == "Acme S.A.S." and monthly["kpis"]["filed"] == 2
    text = pqrbot("report", "kpis", "--from", "2026-11-01", "--to", "2026-12-01", env={"PQRBOT_LANG": "es"})
    assert text.returncode == 0 and "Radicadas: 2" in text.stdout
    english = pqrbot("report", "monthly", "--month", "2026-11")
    assert "Monthly report to top management, 2026-11" in english.stdout


@pytest.mark.parametrize(("args", "code", "says"), [
    (("report", "kpis", "--from", "2026-13-01", "--to", "2026-12-01"), 2, "not a date: 2026-13-01"),
    (("report", "kpis", "--from", "2026-12-01", "--to", "2026-11-01"), 1, "the period is empty"),
    (("report", "client", "--client", "Nadie", "--period", "2026-Q5"), 2, "not a period: 2026-Q5"),
    (("report", "client", "--client", "Nadie", "--period", "2026-Q4"), 1, "no client named Nadie"),
    (("report", "monthly", "--month", "2026"), 2, "is not a month; write it as YYYY-MM"),
])
def test_bad_input_is_answered_in_one_line(pqrbot: Run, args: tuple[str, ...], code: int, says: str) -> None:
    proc = pqrbot(*args)
    assert proc.returncode == code and says in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
