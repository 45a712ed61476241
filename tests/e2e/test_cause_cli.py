"""`pqrbot pqr cause RADICADO CAUSE [--area AREA] --as IDENTITY [--json]` in a subprocess."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Run, as_json

pytestmark = pytest.mark.slow

NEW = ["pqr", "new", "--type", "queja", "--channel", "phone", "--name", "Ana", "--email", "ana@example.co",
       "--subject", "Cobro doble", "--body", "Me cobraron dos veces", "--received-at", "2026-12-18T10:00:00-05:00"]


def test_cause_set_shown_and_refused(pqrbot: Run) -> None:
    filed = as_json(pqrbot(*NEW, "--json"))
    rad = filed["radicado"]
    assert filed["cause"] is None

    doc = as_json(pqrbot("pqr", "cause", rad.lower(), "facturacion", "--area", "Cartera", "--as", "slack:U0STAFF",
                         "--json"))
    assert (doc["radicado"], doc["cause"], doc["area"]) == (rad, "facturacion", "Cartera")
    assert doc["events"][-1]["kind"] == "cause_set" and doc["events"][-1]["actor"] == "slack:U0STAFF"
    assert (doc["events"][-1]["from"], doc["events"][-1]["to"]) == (None, "facturacion")

    text = pqrbot("pqr", "cause", rad, "Garantía", "--as", "slack:U0BOSS")      # a manager, by the label
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip() == f"{rad}: cause recorded, Garantía."
    shown = as_json(pqrbot("pqr", "show", rad, "--json"))
    assert (shown["cause"], shown["area"]) == ("garantia", "Cartera")
    assert as_json(pqrbot("pqr", "list", "--json"))[0]["cause"] == "garantia"

    unknown = pqrbot("pqr", "cause", rad, "nope", "--as", "slack:U0STAFF")
    assert unknown.returncode == 1 and len(unknown.stderr.splitlines()) == 1
    assert unknown.stderr.startswith('pqrbot: Unknown cause "nope". Accepted causes: facturacion (Facturación), ')
    assert "otro (Otro)" in unknown.stderr

    stranger = pqrbot("pqr", "cause", rad, "otro", "--as", "telegram:999", env={"PQRBOT_LANG": "es"})
    assert stranger.returncode == 1 and stranger.stderr.startswith("pqrbot: Solo el personal")
    assert len(stranger.stderr.splitlines()) == 1
    missing = pqrbot("pqr", "cause", "PQR-1999-000001", "otro", "--as", "slack:U0STAFF")
    assert missing.returncode == 1 and "not found" in missing.stderr
    assert as_json(pqrbot("pqr", "show", rad, "--json"))["cause"] == "garantia"     # nothing refused changed it


def test_cause_usage_errors_exit_2(pqrbot: Run) -> None:
    rad = as_json(pqrbot(*NEW, "--json"))["radicado"]
    assert pqrbot("pqr", "cause", rad, "otro").returncode == 2                  # no --as
    assert pqrbot("pqr", "cause", rad, "--as", "slack:U0STAFF").returncode == 2  # no cause
    assert pqrbot("pqr", "cause", rad, "otro", "--area", "--as", "slack:U0STAFF").returncode == 2
