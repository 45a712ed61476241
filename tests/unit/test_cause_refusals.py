"""A cause refused (bot.commands.refusals) in both languages, and the cause a typed word names."""

from __future__ import annotations

import pytest

from bot.commands.handler import cause_key
from bot.commands.refusals import cause_list, refusal_text
from bot.config import DEFAULT_CAUSES
from domain.errors import CauseRefused

KEYS = tuple(DEFAULT_CAUSES)


def test_an_unknown_cause_says_what_was_wrong_and_lists_keys_with_labels() -> None:
    text = refusal_text(CauseRefused("unknown", KEYS, "precio"), "es", causes=DEFAULT_CAUSES)
    assert text == ("No conozco la causa «precio». Causas aceptadas: facturacion (Facturación), servicio_tecnico "
                    "(Servicio técnico), entrega (Entrega), garantia (Garantía), atencion (Atención), producto "
                    "(Producto), datos_personales (Datos personales), otro (Otro).")
    assert refusal_text(CauseRefused("unknown", KEYS, "x"), "en", causes=DEFAULT_CAUSES).startswith(
        'Unknown cause "x". Accepted causes: facturacion (Facturación), ')


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_close_without_cause_says_how_to_set_one(lang: str) -> None:
    text = refusal_text(CauseRefused("required", ("entrega", "otro")), lang, causes=DEFAULT_CAUSES)
    assert "/pqr cause RADICADO" in text and "pqrbot pqr cause" in text
    assert text.endswith(": entrega (Entrega), otro (Otro).")
    assert "\n" not in text                # the CLI's refusal is one line


def test_without_labels_the_keys_are_listed() -> None:
    assert cause_list(("entrega", "otro")) == "entrega, otro"
    assert cause_list(("entrega", "otro"), {"entrega": "entrega", "otro": "Otro"}) == "entrega, otro (Otro)"


@pytest.mark.parametrize(("typed", "key"), [
    ("facturacion", "facturacion"),
    ("FACTURACIÓN", "facturacion"),
    ("Servicio técnico", "servicio_tecnico"),
    ("servicio-tecnico", "servicio_tecnico"),
    (" datos_personales ", "datos_personales"),
    ("precio", "precio"),                  # not a cause: left for the domain to refuse
])
def test_a_cause_is_named_by_its_key_or_its_label(typed: str, key: str) -> None:
    assert cause_key(typed, DEFAULT_CAUSES) == key
