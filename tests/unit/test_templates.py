"""Answer templates: the filling rules (domain.templates) and the folder's checks (bot.templates)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.templates.files import read_folder
from domain.pqr_types import PqrType
from domain.templates import AnswerTemplate, TemplateProblem, fill, placeholders

SHIPPED = Path(__file__).resolve().parents[2] / "templates"


def tpl(es: str = "Hola {nombre}", en: str = "Hi {nombre}", name: str = "saludo",
        types: frozenset[str] | None = None) -> AnswerTemplate:
    return AnswerTemplate(name=name, titles={"es": "Saludo"}, bodies={"es": es, "en": en}, types=types)


def test_fill_is_one_pass_so_values_are_never_read_as_placeholders() -> None:
    text = fill("{nombre} · {radicado} · {{literal}}", {"nombre": "Ana {radicado} }{", "radicado": "PQR-1"})
    assert text == "Ana {radicado} }{ · PQR-1 · {literal}"


def test_placeholders_and_unbalanced_braces() -> None:
    assert placeholders("{a} {b} {a} {{x}}") == ["a", "b"]
    with pytest.raises(TemplateProblem) as exc:
        placeholders("Hola {nombre")
    assert exc.value.code == "unbalanced_brace"


def test_an_unknown_placeholder_or_a_missing_language_is_refused_when_filling() -> None:
    with pytest.raises(TemplateProblem) as exc:
        tpl(es="Hola {cliente}").fill("es", {})
    assert exc.value.code == "unknown_placeholder" and exc.value.detail == "{cliente}"
    with pytest.raises(TemplateProblem) as exc:
        tpl(en="").fill("en", {})
    assert exc.value.code == "missing_language"


def test_extra_text_goes_at_texto_or_after_the_body() -> None:
    assert tpl(es="Hola {nombre}.").answer("es", {"nombre": "Ana"}, "Más.") == "Hola Ana.\n\nMás."
    body = "Hola.\n\n{texto}\n\nChao."
    assert tpl(es=body).answer("es", {}, "Dato {nombre}") == "Hola.\n\nDato {nombre}\n\nChao."
    assert tpl(es=body).answer("es", {}) == "Hola.\n\nChao."


def test_types_and_reserved_names() -> None:
    assert tpl(types=frozenset({"reclamo"})).fits("reclamo") and not tpl(types=frozenset({"reclamo"})).fits("queja")
    closing = tpl(name="_cierre", es="Respuesta: {respuesta}", en="Answer")
    assert "texto" not in closing.accepted() and "respuesta" in closing.accepted()
    assert [p.code for p in closing.problems(PqrType)] == ["missing_placeholder"]


def test_the_shipped_folder_has_no_problems() -> None:
    folder = read_folder(SHIPPED)
    assert folder.problems == ()
    assert {"acuse_reclamo", "solicitud_documentos", "respuesta_final", "habeas_data"} <= set(folder.templates)
    for template in folder.templates.values():
        assert set(template.bodies) == {"es", "en"}


def test_a_broken_folder_names_each_problem(tmp_path: Path) -> None:
    (tmp_path / "bueno.yaml").write_text("title: Bueno\ntypes: all\nes: Hola {nombre}\nen: Hi {nombre}\n")
    (tmp_path / "marcador.yaml").write_text("title: X\nes: Hola {cliente}\nen: Hi {nombre}\n")
    (tmp_path / "idioma.yaml").write_text("title: X\ntypes: [reclamo, inventado]\nes: Hola\n")
    (tmp_path / "roto.yaml").write_text("title: [sin cerrar\n")
    (tmp_path / "clave.yaml").write_text("title: X\ncuerpo: hola\nes: a\nen: b\n")
    (tmp_path / "_otro.yaml").write_text("title: X\nes: a\nen: b\n")
    (tmp_path / "README.md").write_text("not a template")
    folder = read_folder(tmp_path)
    found = sorted((p.file, p.code) for p in folder.problems)
    assert found == [("_otro.yaml", "unknown_reserved"), ("clave.yaml", "unknown_key"),
                     ("idioma.yaml", "missing_language"), ("idioma.yaml", "unknown_type"),
                     ("marcador.yaml", "unknown_placeholder"), ("roto.yaml", "not_yaml")]
    assert set(folder.templates) == {"bueno", "marcador", "idioma"}
