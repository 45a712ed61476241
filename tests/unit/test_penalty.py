"""The penalty aggregate: every transition, the refusals, the double decision, exact Decimal sums."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.errors import InvalidInput, InvalidTransition
from domain.penalty import AlreadyDecided, Penalty, PenaltyCategory, PenaltyStatus, parse_amount, total
from domain.files import FileData

BOG = dt.timezone(dt.timedelta(hours=-5))
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=BOG)
STAFF, BOSS = "slack:U0STAFF", "slack:U0BOSS"


def new(amount: str = "1500000.50") -> Penalty:
    return Penalty.register(client="Cliente S.A.", category=PenaltyCategory.KPI_ANS, amount=Decimal(amount),
                            currency="cop", area="laboratorio", actor=STAFF, now=T0, pqr="PQR-2026-000001",
                            description="ANS de reclamos incumplido")


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_register_keeps_the_exact_amount_and_records_the_event() -> None:
    p = new()
    assert (p.status, str(p.amount), p.currency) == (PenaltyStatus.NOTIFICADA, "1500000.50", "COP")
    e = p.events[0]
    assert (e.kind, e.actor, e.at, e.to, e.data["amount"]) == ("penalty_registered", STAFF, T0, "notificada",
                                                               "1500000.50")


@pytest.mark.parametrize("bad", ["0", "-5", "abc", "1.005", "NaN", "Infinity", "1,5"])
def test_bad_amounts_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_amount(bad)


def test_register_refuses_empty_client_area_and_naive_time() -> None:
    with pytest.raises(InvalidInput):
        Penalty.register(client=" ", category=PenaltyCategory.POSTVENTA, amount=Decimal("1"), currency="COP",
                         area="x", actor=STAFF, now=T0)
    with pytest.raises(InvalidInput):
        Penalty.register(client="c", category=PenaltyCategory.POSTVENTA, amount=Decimal("1"), currency="COP",
                         area="", actor=STAFF, now=T0)
    with pytest.raises(InvalidInput):
        Penalty.register(client="c", category=PenaltyCategory.POSTVENTA, amount=Decimal("1"), currency="COP",
                         area="x", actor=STAFF, now=T0.replace(tzinfo=None))
    with pytest.raises(InvalidInput):
        Penalty.register(client="c", category=PenaltyCategory.POSTVENTA, amount=Decimal("1"), currency="PESOS",
                         area="x", actor=STAFF, now=T0)


def test_approved_penalty_goes_all_the_way_to_paid() -> None:
    p = new()
    f = FileData("acta.pdf", "application/pdf", b"%PDF-1.4 acta")
    p.add_evidence("Informe del laboratorio", actor=STAFF, now=at(1), files=[f])
    assert p.status is PenaltyStatus.EN_EVALUACION
    p.add_evidence("Más soporte", actor=STAFF, now=at(2))
    assert p.status is PenaltyStatus.EN_EVALUACION and len(p.evidence) == 2
    p.decide(True, reason="Incumplimos el ANS", actor=BOSS, now=at(3))
    assert (p.status, p.decision, p.decided_by) == (PenaltyStatus.APROBADA, PenaltyStatus.APROBADA, BOSS)
    p.notify_client(actor=BOSS, now=at(4))
    p.authorize_payment(actor=BOSS, now=at(4))
    p.mark_paid(actor="slack:U0CONTA", now=at(5), reason="transferencia 123")
    assert p.status is PenaltyStatus.PAGADA
    trail = [(e.kind, e.from_, e.to) for e in p.events]
    assert trail == [
        ("penalty_registered", None, "notificada"),
        ("evidence", None, None),
        ("status_changed", "notificada", "en_evaluacion"),
        ("evidence", None, None),
        ("penalty_decided", "en_evaluacion", "aprobada"),
        ("status_changed", "aprobada", "cliente_notificada"),
        ("status_changed", "cliente_notificada", "pago_autorizado"),
        ("status_changed", "pago_autorizado", "pagada"),
    ]
    assert p.events[1].data["files"] == [{"filename": "acta.pdf", "sha256": f.sha256}]
    assert p.events[4].reason == "Incumplimos el ANS" and p.events[4].actor == BOSS


def test_rejected_penalty_is_never_paid() -> None:
    p = new()
    p.add_evidence("Soporte", actor=STAFF, now=at(1))
    p.decide(False, reason="El retraso fue del cliente", actor=BOSS, now=at(2))
    p.notify_client(actor=BOSS, now=at(3))
    assert p.status is PenaltyStatus.CLIENTE_NOTIFICADA and not p.accepted
    with pytest.raises(InvalidTransition):
        p.authorize_payment(actor=BOSS, now=at(4))
    with pytest.raises(InvalidTransition):
        p.mark_paid(actor=BOSS, now=at(4))


def test_decision_outside_evaluation_is_refused() -> None:
    p = new()
    with pytest.raises(InvalidTransition) as exc:
        p.decide(True, reason="sí", actor=BOSS, now=at(1))
    assert exc.value.current == "notificada"
    assert p.status is PenaltyStatus.NOTIFICADA and len(p.events) == 1


def test_second_decision_changes_nothing() -> None:
    p = new()
    p.add_evidence("Soporte", actor=STAFF, now=at(1))
    p.decide(True, reason="Aceptamos", actor=BOSS, now=at(2))
    events = list(p.events)
    for approve in (True, False):
        with pytest.raises(AlreadyDecided) as exc:
            p.decide(approve, reason="otra vez", actor="slack:U0OTHER", now=at(3))
        assert (exc.value.decision, exc.value.by) == ("aprobada", BOSS)
    p.notify_client(actor=BOSS, now=at(4))
    with pytest.raises(AlreadyDecided):
        p.decide(False, reason="tarde", actor=BOSS, now=at(5))
    assert p.events[:len(events)] == events and p.decision is PenaltyStatus.APROBADA


def test_decision_needs_a_reason_and_evidence_needs_content() -> None:
    p = new()
    with pytest.raises(InvalidInput):
        p.add_evidence("  ", actor=STAFF, now=at(1))
    p.add_evidence("ok", actor=STAFF, now=at(1))
    with pytest.raises(InvalidInput):
        p.decide(True, reason=" ", actor=BOSS, now=at(2))
    assert p.status is PenaltyStatus.EN_EVALUACION


def test_evidence_after_the_decision_is_refused() -> None:
    p = new()
    p.add_evidence("ok", actor=STAFF, now=at(1))
    p.decide(False, reason="no", actor=BOSS, now=at(2))
    with pytest.raises(InvalidTransition):
        p.add_evidence("tarde", actor=STAFF, now=at(3))


def test_skipping_steps_is_refused() -> None:
    p = new()
    for step in (lambda: p.notify_client(actor=BOSS, now=at(1)), lambda: p.mark_paid(actor=BOSS, now=at(1)),
                 lambda: p.authorize_payment(actor=BOSS, now=at(1))):
        with pytest.raises(InvalidTransition):
            step()
    assert p.status is PenaltyStatus.NOTIFICADA


def test_decimal_sums_are_exact() -> None:
    amounts = [parse_amount(x) for x in ("0.10", "0.20", "1500000.50", "999999999999.99")]
    assert total(amounts) == Decimal("1000001500000.79")
    assert str(total([Decimal("0.1")] * 3)) == "0.3"
    assert total([]) == Decimal("0")
