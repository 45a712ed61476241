"""The CLI and the console as a user drives them: commands, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Run, as_json

pytestmark = pytest.mark.slow

NEW = ["pqr", "new", "--type", "queja", "--channel", "phone", "--name", "Ana", "--email", "ana@example.co",
       "--subject", "Cobro doble", "--body", "Me cobraron dos veces"]


def test_new_then_list_shows_the_legal_due_date(pqrbot: Run) -> None:
    filed = as_json(pqrbot(*NEW, "--received-at", "2026-12-18T10:00:00-05:00", "--json"))
    assert filed["radicado"] == "PQR-2026-000001"
    assert filed["due_at"] == "2027-01-13T23:59:59-05:00"
    assert filed["customer"] == {"name": "Ana", "email": "ana@example.co", "telegram_chat_id": None}
    assert filed["events"][0]["kind"] == "filed" and filed["events"][0]["to"] == "radicada"
    assert filed["messages"][0] == {"id": 1, "direction": "in", "channel": "phone", "body": "Me cobraron dos veces",
                                    "at": "2026-12-18T10:00:00-05:00", "author": "cli:operator", "attachments": []}
    listed = as_json(pqrbot("pqr", "list", "--json"))
    assert [p["radicado"] for p in listed] == ["PQR-2026-000001"]
    assert listed[0]["due_at"] == "2027-01-13T23:59:59-05:00"
    shown = as_json(pqrbot("pqr", "show", "pqr-2026-000001", "--json"))
    assert shown["radicado"] == "PQR-2026-000001"


def test_received_in_another_offset_late_at_night(pqrbot: Run) -> None:
    # 03:30 UTC on Saturday is still Friday 22:30 in Bogotá: Friday is the filing day.
    filed = as_json(pqrbot(*NEW, "--received-at", "2026-12-19T03:30:00+00:00", "--json"))
    assert filed["received_at"] == "2026-12-18T22:30:00-05:00"
    assert filed["due_at"] == "2027-01-13T23:59:59-05:00"


def test_exit_codes(pqrbot: Run) -> None:
    missing = pqrbot("pqr", "show", "PQR-1999-000001")
    assert missing.returncode == 1 and "not found" in missing.stderr and len(missing.stderr.splitlines()) == 1
    assert pqrbot("pqr", "frobnicate").returncode == 2
    assert pqrbot("pqr", "new", "--type", "nope", "--name", "x", "--subject", "y").returncode == 2
    bad_instant = pqrbot(*NEW, "--received-at", "2026-12-18T10:00:00")
    assert bad_instant.returncode == 2 and "offset" in bad_instant.stderr
    assert pqrbot("pqr", "list", "--status", "nope").returncode == 1


def test_refusals_come_from_the_catalogues_in_the_configured_language(pqrbot: Run) -> None:
    spanish = pqrbot("pqr", "show", "PQR-1999-000001", env={"PQRBOT_LANG": ""})
    assert spanish.returncode == 1 and spanish.stderr.strip() == "pqrbot: No encontré la PQR PQR-1999-000001."
    english = pqrbot("outbox", "retry", "999")
    assert english.returncode == 1 and english.stderr.strip() == "pqrbot: Outbox message 999 not found or already sent."
    state = pqrbot("pqr", "list", "--status", "nope", env={"PQRBOT_LANG": "es"})
    assert state.returncode == 1 and "Estado desconocido «nope»" in state.stderr


def test_list_filters(pqrbot: Run) -> None:
    as_json(pqrbot(*NEW, "--received-at", "2026-01-02T10:00:00-05:00", "--json"))
    as_json(pqrbot(*NEW, "--received-at", "2026-12-18T10:00:00-05:00", "--json"))
    env = {"PQRBOT_NOW": "2026-12-21T09:00:00-05:00"}
    breached = as_json(pqrbot("pqr", "list", "--breached", "--json", env=env))
    assert [p["radicado"] for p in breached] == ["PQR-2026-000001"]
    assert breached[0]["sla"] == "breached"
    assert len(as_json(pqrbot("pqr", "list", "--status", "all", "--json"))) == 2
    assert as_json(pqrbot("pqr", "list", "--status", "cerrada", "--json")) == []


def test_digest_json(pqrbot: Run) -> None:
    rad = as_json(pqrbot(*NEW, "--received-at", "2026-12-18T10:00:00-05:00", "--json"))["radicado"]
    due_soon = as_json(pqrbot("digest", "--at", "2027-01-11T08:00:00-05:00", "--json"))
    assert [p["radicado"] for p in due_soon["due_soon"]] == [rad]
    today = as_json(pqrbot("digest", "--at", "2027-01-13T08:00:00-05:00", "--json"))
    assert [p["radicado"] for p in today["due_today"]] == [rad] and today["breached"] == []
    late = as_json(pqrbot("digest", "--at", "2027-01-14T08:00:00-05:00", "--json"))
    assert set(late) >= {"at", "breached", "due_today", "due_soon"}
    assert [p["radicado"] for p in late["breached"]] == [rad]
    assert late["at"] == "2027-01-14T08:00:00-05:00"


def test_console_works_the_queue(pqrbot: Run) -> None:
    rad = as_json(pqrbot(*NEW, "--received-at", "2026-12-18T10:00:00-05:00", "--json"))["radicado"]
    script = "\n".join([
        "/pqr list",
        f"/pqr tomar {rad}",
        f'/pqr responder {rad} "Hola Ana, ya revisamos el cobro"',
        f"/pqr nota {rad} llamar mañana",
        f"/pqr due {rad} el próximo viernes -- falta el soporte del banco",
        f"/pqr plazo {rad} 15 de enero -- falta el soporte del banco",
        f"/pqr status {rad} radicada",
        f"/pqr cerrar {rad} Reintegramos el cobro doble.",
        "/pqr frob",
        "",
    ])
    out = pqrbot("console", "--as", "slack:U0STAFF", input=script,
                 env={"PQRBOT_NOW": "2026-12-21T09:00:00-05:00"})
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert rad in text
    assert f"{rad} asignada a slack:U0STAFF" in text
    assert "Respuesta enviada a Ana por email" in text
    assert "Nota interna agregada" in text
    # From Monday 2026-12-21 "el próximo viernes" is Christmas Day: refused, with the reason.
    assert "2026-12-25 no es día hábil" in text
    assert "plazo prorrogado de 2027-01-13 23:59 a 2027-01-15 23:59" in text
    assert "No se puede pasar de «en_tramite» a «radicada»" in text
    assert f"{rad} cerrada." in text
    assert "No conozco el comando «frob»" in text
    assert "Traceback" not in text + out.stderr
    shown = as_json(pqrbot("pqr", "show", rad, "--json"))
    assert shown["status"] == "cerrada" and shown["extended"] is True
    assert shown["assignee"] == "slack:U0STAFF"
    kinds = [e["kind"] for e in shown["events"]]
    assert kinds[0] == "filed" and "assigned" in kinds and "extended" in kinds
    assert [m["direction"] for m in shown["messages"]] == ["in", "out", "note", "out"]


def test_console_refuses_non_staff_and_records_it(pqrbot: Run, workdir: Path) -> None:
    out = pqrbot("console", "--as", "slack:UINTRUDER", input="/pqr list\n")
    assert out.returncode == 0
    assert "Solo el personal" in out.stdout


def test_config_errors_name_the_key(pqrbot: Run, workdir: Path) -> None:
    cfg = workdir / "bad.yaml"
    cfg.write_text("channels:\n  email:\n    listen: {port: nope}\n    bogus: 1\n")
    out = pqrbot("--config", str(cfg), "pqr", "list", config=False)
    assert out.returncode == 1
    assert "channels.email.listen.port" in out.stderr and "channels.email.bogus: unknown key" in out.stderr


def test_config_from_env_and_python_m_bot(pqrbot: Run, workdir: Path) -> None:
    out = pqrbot("pqr", "list", "--json", config=False, env={"PQRBOT_CONFIG": str(workdir / "config.yaml")})
    assert json.loads(out.stdout) == []
