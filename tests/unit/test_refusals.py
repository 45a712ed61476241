"""The one domain-error → catalogue-text mapping (bot.commands.refusals), in both languages."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.commands.refusals import AboutPenalty, Refusal, refusal_text
from domain.errors import ExtensionRefused, InvalidInput, InvalidTransition, NotAllowed, NotFound
from domain.penalty import AlreadyDecided, parse_amount


def test_each_refusal_has_its_own_text_in_spanish() -> None:
    assert refusal_text(NotFound("PQR-2026-000001"), "es") == "No encontré la PQR PQR-2026-000001."
    assert refusal_text(NotFound("penalty 7"), "es", about=AboutPenalty(7)) == "No encontré la penalidad #7."
    assert refusal_text(NotAllowed("not_manager"), "es").startswith("Solo un gerente")
    assert refusal_text(NotAllowed("not_staff"), "es").startswith("Solo el personal de atención")
    assert refusal_text(AlreadyDecided("aprobada", "slack:U0BOSS", None), "es", about=AboutPenalty(3)) == \
        "La penalidad #3 ya fue decidida (aprobada, por slack:U0BOSS); no cambió nada."
    moved = InvalidTransition("cerrada", "en_tramite", ("reabierta",))
    assert "reabierta" in refusal_text(moved, "es")
    assert refusal_text(InvalidTransition("aprobada", "rechazada", ()), "es", about=AboutPenalty(3)) == \
        "La penalidad #3 está aprobada: esa acción no se permite en ese estado."
    assert refusal_text(Refusal("unknown_filter", filter="x:y"), "es") != "unknown_filter"


def test_invalid_input_speaks_the_users_language_not_the_domains_english() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_amount("1.001")
    assert refusal_text(caught.value, "es") == "El monto admite a lo sumo dos decimales (recibí «1.001»)."
    assert refusal_text(caught.value, "en") == "The amount takes at most two decimals (got “1.001”)."
    assert refusal_text(InvalidInput("a decision needs a reason", code="reason_required"), "en") == \
        "Give the reason for the decision."
    assert refusal_text(InvalidInput("odd"), "en") == "Invalid value: odd"      # no code: the detail


def test_an_extension_limit_is_shown_as_the_caller_shows_dates() -> None:
    limit = dt.datetime(2027, 1, 13, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    text = refusal_text(ExtensionRefused("past_due", limit), "es", instant=lambda d: d.strftime("%d/%m/%Y"))
    assert "13/01/2027" in text
