"""`pqrbot templates list|check` and the console's `templates` / `reply RAD @template`, as a user
drives them in a working directory holding a `templates/` folder (config `templates.dir`'s default)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import Run, as_json

pytestmark = pytest.mark.slow

SHIPPED = Path(__file__).resolve().parents[2] / "templates"
NEW = ["pqr", "new", "--type", "reclamo", "--channel", "phone", "--name", "Ana {radicado}", "--email",
       "ana@example.co", "--subject", "Cobro doble", "--body", "Me cobraron dos veces"]


@pytest.fixture
def folder(workdir: Path) -> Path:
    shutil.copytree(SHIPPED, workdir / "templates")
    return workdir / "templates"


def test_check_passes_on_the_shipped_folder_and_list_prints_the_json_shape(pqrbot: Run, folder: Path) -> None:
    ok = pqrbot("templates", "check")
    assert ok.returncode == 0 and ok.stdout.strip() == "Templates in templates: 4 checked, no problems."
    listed = as_json(pqrbot("templates", "list", "--json"))
    assert [t["name"] for t in listed] == ["acuse_reclamo", "habeas_data", "respuesta_final", "solicitud_documentos"]
    assert all(set(t) == {"name", "title", "types", "languages"} for t in listed)
    assert listed[1]["types"] == ["habeas_consulta", "habeas_reclamo"] and listed[3]["types"] is None
    assert listed[0]["languages"] == ["es", "en"]
    habeas = as_json(pqrbot("templates", "list", "--type", "habeas_consulta", "--json"))
    assert [t["name"] for t in habeas] == ["habeas_data", "solicitud_documentos"]
    assert pqrbot("templates", "list", "--type", "nope").returncode == 2


def test_check_prints_one_line_per_problem_and_exits_1(pqrbot: Run, folder: Path) -> None:
    (folder / "marcador.yaml").write_text("title: X\nes: Hola {cliente}\nen: Hi {nombre}\n")
    (folder / "ingles.yaml").write_text("title: X\ntypes: [reclamo, inventado]\nes: Hola\n")
    (folder / "roto.yaml").write_text("title: [sin cerrar\n")
    out = pqrbot("templates", "check")
    assert out.returncode == 1
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 4, out.stdout
    assert lines == sorted(lines, key=lambda line: line.split(":")[0])
    assert "templates/ingles.yaml: the “en” text is missing" in out.stdout
    assert "templates/ingles.yaml: unknown PQR type “inventado”" in out.stdout
    assert "templates/marcador.yaml: unknown placeholder es: {cliente}" in out.stdout
    assert "templates/roto.yaml: not valid YAML" in out.stdout
    assert out.stderr.strip() == "pqrbot: Templates in templates: problems found: 4."


def test_the_console_lists_and_sends_a_template(pqrbot: Run, folder: Path) -> None:
    rad = as_json(pqrbot(*NEW, "--received-at", "2026-12-18T10:00:00-05:00", "--json"))["radicado"]
    script = "\n".join([f"/pqr plantillas {rad}", f"/pqr reply {rad} @acuse_reclamo", f"/pqr reply {rad} @nada", ""])
    out = pqrbot("console", "--as", "slack:U0STAFF", input=script, env={"PQRBOT_NOW": "2026-12-21T09:00:00-05:00"})
    assert out.returncode == 0, out.stderr
    assert "@acuse_reclamo" in out.stdout and "@habeas_data" not in out.stdout
    assert "No hay una plantilla «@nada»" in out.stdout
    shown = as_json(pqrbot("pqr", "show", rad, "--json"))
    [answer] = [m["body"] for m in shown["messages"] if m["direction"] == "out"]
    assert answer.startswith("Estimado(a) Ana {radicado}:")
    assert f"su reclamo con el radicado {rad}, del 2026-12-18" in answer
    assert "a más tardar el 2027-01-13" in answer and answer.endswith("El equipo de atención al cliente")
