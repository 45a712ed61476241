"""The Pqr aggregate: filing, workflow, messages, events, extension (prórroga) and SLA state."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import BusinessCalendar
from domain.customer import Customer, identity
from domain.errors import DomainError, ExtensionRefused, InvalidInput, InvalidTransition
from domain.pqr import Direction, Pqr, SlaState, sla_state, sla_windows
from domain.pqr_types import OPEN_STATUSES, TRANSITIONS, PqrType, Status, allowed_from, is_review_move
from domain.terms import ContractTerms, Target, TermPolicy, Unit

BOGOTA = ZoneInfo("America/Bogota")
CAL = BusinessCalendar()
POLICY = TermPolicy(calendar=CAL)
RECEIVED = dt.datetime.fromisoformat("2026-12-18T10:00:00-05:00")  # Friday
STAFF = "slack:U100"
CUSTOMER_ID = "email:ana@example.co"


def bog(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, tzinfo=BOGOTA)


def eod(y: int, m: int, d: int) -> dt.datetime:
    return bog(y, m, d, 23, 59, 59)


def make_pqr(pqr_type: PqrType = PqrType.PETICION, received_at: dt.datetime = RECEIVED,
             contract: ContractTerms | None = None, body: str = "Solicito copia de mi factura",
             subject: str = "Factura") -> Pqr:
    return Pqr.file(pqr_type=pqr_type, channel="email", customer=Customer("Ana", email="Ana@Example.co"),
                    subject=subject, body=body, received_at=received_at, policy=POLICY,
                    actor=CUSTOMER_ID, contract=contract, external_id="<m1@example.co>")


def pqr_in(status: Status) -> Pqr:
    """A PQR brought to `status` through allowed transitions."""
    pqr = make_pqr()
    now = bog(2026, 12, 21, 9)
    path = {
        Status.RADICADA: [],
        Status.ASIGNADA: [Status.ASIGNADA],
        Status.EN_TRAMITE: [Status.EN_TRAMITE],
        Status.ESPERANDO_CLIENTE: [Status.ESPERANDO_CLIENTE],
        Status.RESPONDIDA: [Status.RESPONDIDA],
        Status.CERRADA: [Status.CERRADA],
        Status.REABIERTA: [Status.CERRADA, Status.REABIERTA],
        Status.EN_REVISION: [],
    }[status]
    for step in path:
        pqr.change_status(step, actor=STAFF, now=now)
    if status is Status.EN_REVISION:
        pqr.submit_answer("Borrador de respuesta", actor=STAFF, now=now)
    assert pqr.status is status
    return pqr


# -- customer ----------------------------------------------------------------------------------

def test_customer_identities() -> None:
    customer = Customer("Ana", email=" Ana@Example.CO ", telegram_chat_id=1001)
    assert customer.identities() == ["email:ana@example.co", "telegram:1001"]
    assert identity("slack", "U123") == "slack:U123"
    assert Customer("Nadie").identities() == []


# -- filing ------------------------------------------------------------------------------------

def test_file_sets_due_date_and_status() -> None:
    pqr = make_pqr()
    assert pqr.status is Status.RADICADA
    assert pqr.is_open
    assert pqr.due_at == eod(2027, 1, 13)
    assert pqr.original_due_at == pqr.due_at
    assert pqr.due_rule == "ley:peticion:15d"
    assert not pqr.extended
    assert pqr.closed_at is None and pqr.first_response_at is None
    assert pqr.contract is None


def test_file_records_filed_event_and_inbound_message() -> None:
    pqr = make_pqr()
    [event] = pqr.events
    assert event.kind == "filed"
    assert (event.actor, event.at, event.to) == (CUSTOMER_ID, RECEIVED, "radicada")
    assert event.data == {"due_at": "2027-01-13T23:59:59-05:00", "rule": "ley:peticion:15d"}
    [msg] = pqr.messages
    assert msg.direction is Direction.IN
    assert (msg.channel, msg.body, msg.at, msg.author) == ("email", "Solicito copia de mi factura",
                                                             RECEIVED, CUSTOMER_ID)
    assert msg.external_id == "<m1@example.co>"


def test_file_with_subject_only_has_no_message() -> None:
    pqr = make_pqr(body="   ", subject="  Solo asunto  ")
    assert pqr.subject == "Solo asunto"
    assert pqr.messages == []


def test_file_refuses_empty() -> None:
    with pytest.raises(InvalidInput):
        make_pqr(body=" ", subject="\n")


def test_file_refuses_naive_received_at() -> None:
    with pytest.raises(InvalidInput):
        make_pqr(received_at=dt.datetime(2026, 12, 18, 10, 0))


def test_file_with_contract() -> None:
    contract = ContractTerms("ACME", resolution={PqrType.RECLAMO: Target(5, Unit.DAYS)},
                             first_response={PqrType.RECLAMO: Target(4, Unit.HOURS)})
    pqr = make_pqr(PqrType.RECLAMO, contract=contract)
    assert pqr.contract == "ACME"
    assert pqr.due_at == eod(2026, 12, 28)
    assert pqr.due_rule == "contrato:ACME:resolucion:5d"
    assert pqr.first_response_due_at == bog(2026, 12, 18, 14)
    assert pqr.events[0].data["rule"] == "contrato:ACME:resolucion:5d"


def test_errors_are_domain_errors() -> None:
    for cls in (InvalidInput, InvalidTransition, ExtensionRefused):
        assert issubclass(cls, DomainError)


# -- assignment --------------------------------------------------------------------------------

def test_assign_moves_radicada_to_asignada() -> None:
    pqr = make_pqr()
    now = bog(2026, 12, 18, 11)
    pqr.assign("slack:U200", actor=STAFF, now=now, reason="turno")
    assert pqr.assignee == "slack:U200"
    assert pqr.status is Status.ASIGNADA
    assigned, changed = pqr.events[1:]
    assert assigned.kind == "assigned"
    assert (assigned.actor, assigned.at, assigned.from_, assigned.to, assigned.reason) == (
        STAFF, now, None, "slack:U200", "turno")
    assert changed.kind == "status_changed"
    assert (changed.from_, changed.to) == ("radicada", "asignada")


def test_reassign_records_from_and_to_without_status_change() -> None:
    pqr = make_pqr()
    pqr.assign("slack:U200", actor=STAFF, now=bog(2026, 12, 18, 11))
    pqr.change_status(Status.EN_TRAMITE, actor=STAFF, now=bog(2026, 12, 18, 12))
    n = len(pqr.events)
    pqr.assign("slack:U300", actor=STAFF, now=bog(2026, 12, 18, 13))
    assert pqr.status is Status.EN_TRAMITE
    assert len(pqr.events) == n + 1
    event = pqr.events[-1]
    assert (event.kind, event.from_, event.to) == ("assigned", "slack:U200", "slack:U300")


def test_assign_reopened_moves_to_asignada() -> None:
    pqr = pqr_in(Status.REABIERTA)
    pqr.assign("slack:U200", actor=STAFF, now=bog(2026, 12, 22, 9))
    assert pqr.status is Status.ASIGNADA


def test_assign_closed_is_refused() -> None:
    pqr = pqr_in(Status.CERRADA)
    with pytest.raises(InvalidTransition) as err:
        pqr.assign("slack:U200", actor=STAFF, now=bog(2026, 12, 22, 9))
    assert err.value.allowed == ("reabierta",)
    assert pqr.assignee is None


# -- transitions -------------------------------------------------------------------------------

# Moves into and out of en_revision are the approval workflow's (tests/unit/test_review.py).
ALLOWED = [(src, dst) for src, dsts in TRANSITIONS.items() for dst in dsts if not is_review_move(src, dst)]
REFUSED = [(src, dst) for src in Status for dst in Status
           if dst not in TRANSITIONS[src] and not is_review_move(src, dst)]


def test_transition_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert OPEN_STATUSES == frozenset(Status) - {Status.CERRADA}
    assert allowed_from(Status.CERRADA) == (Status.REABIERTA,)


@pytest.mark.parametrize("src, dst", ALLOWED, ids=[f"{s}->{d}" for s, d in ALLOWED])
def test_every_allowed_transition(src: Status, dst: Status) -> None:
    pqr = pqr_in(src)
    now = bog(2026, 12, 22, 10)
    pqr.change_status(dst, actor=STAFF, now=now, reason="porque sí")
    assert pqr.status is dst
    event = pqr.events[-1]
    assert event.kind == "status_changed"
    assert (event.actor, event.at, event.from_, event.to, event.reason) == (
        STAFF, now, src.value, dst.value, "porque sí")
    assert pqr.closed_at == (now if dst is Status.CERRADA else None)


@pytest.mark.parametrize("src, dst", REFUSED, ids=[f"{s}->{d}" for s, d in REFUSED])
def test_every_refused_transition(src: Status, dst: Status) -> None:
    pqr = pqr_in(src)
    events = list(pqr.events)
    with pytest.raises(InvalidTransition) as err:
        pqr.change_status(dst, actor=STAFF, now=bog(2026, 12, 22, 10))
    assert err.value.current == src.value
    assert err.value.wanted == dst.value
    assert err.value.allowed == tuple(s.value for s in TRANSITIONS[src] if not is_review_move(src, s))
    assert pqr.status is src
    assert pqr.events == events


def test_refused_transition_message_lists_allowed_states() -> None:
    pqr = pqr_in(Status.CERRADA)
    with pytest.raises(InvalidTransition, match="cerrada -> en_tramite not allowed; allowed: reabierta"):
        pqr.change_status(Status.EN_TRAMITE, actor=STAFF, now=bog(2026, 12, 22, 10))


# -- messages ----------------------------------------------------------------------------------

def test_reply_sets_first_response_and_moves_to_en_tramite() -> None:
    pqr = make_pqr()
    pqr.assign("slack:U200", actor=STAFF, now=bog(2026, 12, 18, 11))
    first = bog(2026, 12, 18, 12)
    msg = pqr.reply("Estamos revisando", actor=STAFF, now=first, channel="email")
    assert msg.direction is Direction.OUT
    assert (msg.channel, msg.body, msg.at, msg.author) == ("email", "Estamos revisando", first, STAFF)
    assert pqr.first_response_at == first
    assert pqr.status is Status.EN_TRAMITE
    assert [e.kind for e in pqr.events[-2:]] == ["message", "status_changed"]
    assert pqr.events[-2].data == {"direction": "out"}
    # A second reply keeps the first response instant.
    pqr.reply("Más detalles", actor=STAFF, now=bog(2026, 12, 21, 9), channel="email")
    assert pqr.first_response_at == first


@pytest.mark.parametrize("status", [Status.RADICADA, Status.ASIGNADA, Status.REABIERTA])
def test_reply_from_early_states_goes_to_en_tramite(status: Status) -> None:
    pqr = pqr_in(status)
    pqr.reply("Hola", actor=STAFF, now=bog(2026, 12, 22, 9), channel="email")
    assert pqr.status is Status.EN_TRAMITE


@pytest.mark.parametrize("status", [Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.EN_TRAMITE])
def test_reply_from_later_states_keeps_status(status: Status) -> None:
    pqr = pqr_in(status)
    pqr.reply("Hola", actor=STAFF, now=bog(2026, 12, 22, 9), channel="email")
    assert pqr.status is status


def test_reply_refused_when_empty_or_closed() -> None:
    pqr = make_pqr()
    with pytest.raises(InvalidInput):
        pqr.reply("  ", actor=STAFF, now=bog(2026, 12, 18, 11), channel="email")
    closed = pqr_in(Status.CERRADA)
    with pytest.raises(InvalidTransition):
        closed.reply("Hola", actor=STAFF, now=bog(2026, 12, 22, 9), channel="email")


def test_note_is_internal() -> None:
    pqr = make_pqr()
    note = pqr.note("Cliente VIP", actor=STAFF, now=bog(2026, 12, 18, 11))
    assert note.direction is Direction.NOTE
    assert note.channel == "internal"
    assert pqr.status is Status.RADICADA
    assert pqr.first_response_at is None
    assert pqr.events[-1].kind == "message" and pqr.events[-1].data == {"direction": "note"}
    with pytest.raises(InvalidInput):
        pqr.note(" ", actor=STAFF, now=bog(2026, 12, 18, 11))


def test_receive_while_waiting_returns_to_en_tramite() -> None:
    pqr = pqr_in(Status.ESPERANDO_CLIENTE)
    at = bog(2026, 12, 22, 15)
    msg = pqr.receive("Adjunto el documento", channel="email", at=at, actor=CUSTOMER_ID, external_id="<m2>")
    assert msg.direction is Direction.IN and msg.external_id == "<m2>"
    assert pqr.status is Status.EN_TRAMITE
    message_event, changed = pqr.events[-2:]
    assert message_event.kind == "message" and message_event.data == {"direction": "in"}
    assert (changed.from_, changed.to, changed.reason, changed.at) == (
        "esperando_cliente", "en_tramite", "customer answered", at)


def test_receive_in_other_states_keeps_status() -> None:
    pqr = pqr_in(Status.EN_TRAMITE)
    pqr.receive("Otra cosa", channel="telegram", at=bog(2026, 12, 22, 15), actor=CUSTOMER_ID)
    assert pqr.status is Status.EN_TRAMITE
    assert pqr.messages[-1].channel == "telegram"


# -- close and reopen --------------------------------------------------------------------------

def test_close_with_answer() -> None:
    pqr = make_pqr()
    pqr.assign("slack:U200", actor=STAFF, now=bog(2026, 12, 18, 11))
    now = bog(2026, 12, 21, 10)
    msg = pqr.close("Adjuntamos su factura", actor=STAFF, now=now, channel="email")
    assert msg is not None and msg.direction is Direction.OUT and msg.body == "Adjuntamos su factura"
    assert pqr.status is Status.CERRADA
    assert not pqr.is_open
    assert pqr.closed_at == now
    assert pqr.first_response_at == now
    last = pqr.events[-1]
    assert (last.kind, last.to, last.reason) == ("status_changed", "cerrada", "Adjuntamos su factura")


def test_close_without_answer() -> None:
    pqr = pqr_in(Status.RESPONDIDA)
    now = bog(2026, 12, 21, 10)
    assert pqr.close(None, actor=STAFF, now=now, channel="email") is None
    assert pqr.status is Status.CERRADA and pqr.closed_at == now
    assert all(m.direction is not Direction.OUT for m in pqr.messages)


def test_close_twice_is_refused() -> None:
    pqr = pqr_in(Status.CERRADA)
    n_msgs = len(pqr.messages)
    with pytest.raises(InvalidTransition) as err:
        pqr.close("otra vez", actor=STAFF, now=bog(2026, 12, 22, 9), channel="email")
    assert err.value.allowed == ("reabierta",)
    assert len(pqr.messages) == n_msgs


def test_reopen_gives_fresh_due_date() -> None:
    pqr = make_pqr()
    pqr.close("Listo", actor=STAFF, now=bog(2026, 12, 21, 10), channel="email")
    reopened = bog(2027, 2, 1, 9)  # Monday
    pqr.reopen(actor=CUSTOMER_ID, now=reopened, policy=POLICY, reason="No recibí la factura")
    assert pqr.status is Status.REABIERTA
    assert pqr.is_open
    assert pqr.closed_at is None
    # 15 business days from Mon 2027-02-01: Feb 2..5 (4), 8..12 (9), 15..19 (14), 22 (15).
    assert pqr.due_at == eod(2027, 2, 22)
    assert pqr.original_due_at == pqr.due_at
    assert pqr.due_rule == "reapertura:ley:peticion:15d"
    assert not pqr.extended
    last = pqr.events[-1]
    assert (last.from_, last.to, last.reason, last.at) == ("cerrada", "reabierta", "No recibí la factura", reopened)


def test_reopen_open_pqr_is_refused() -> None:
    pqr = pqr_in(Status.EN_TRAMITE)
    with pytest.raises(InvalidTransition):
        pqr.reopen(actor=STAFF, now=bog(2026, 12, 22, 9), policy=POLICY)


def test_reopen_clears_previous_extension() -> None:
    pqr = make_pqr()
    pqr.extend(bog(2027, 1, 20, 12), actor=STAFF, now=bog(2026, 12, 21, 9), reason="Requiere concepto", policy=POLICY)
    assert pqr.extended
    pqr.close("Listo", actor=STAFF, now=bog(2027, 1, 15, 10), channel="email")
    pqr.reopen(actor=CUSTOMER_ID, now=bog(2027, 1, 18, 9), policy=POLICY)
    assert not pqr.extended


def test_reopened_pqr_can_be_extended_within_a_fresh_term() -> None:
    pqr = make_pqr()
    pqr.close("Listo", actor=STAFF, now=bog(2026, 12, 21, 10), channel="email")
    pqr.reopen(actor=CUSTOMER_ID, now=bog(2027, 3, 1, 9), policy=POLICY)
    new_due = CAL.next_business_day(pqr.due_at.date())
    pqr.extend(bog(new_due.year, new_due.month, new_due.day, 12), actor=STAFF,
               now=bog(2027, 3, 2, 9), reason="Requiere concepto", policy=POLICY)
    assert pqr.due_at == CAL.end_of_day(new_due)


# -- extension (prórroga) ----------------------------------------------------------------------

NOW = bog(2026, 12, 21, 9)   # before the 2027-01-13 due date


def test_extension_accepted() -> None:
    pqr = make_pqr()
    original = pqr.due_at
    pqr.extend(bog(2027, 1, 20, 8, 30), actor=STAFF, now=NOW, reason="Requiere concepto técnico", policy=POLICY)
    assert pqr.due_at == eod(2027, 1, 20)
    assert pqr.due_at.isoformat() == "2027-01-20T23:59:59-05:00"
    assert pqr.extended
    assert pqr.original_due_at == original
    event = pqr.events[-1]
    assert event.kind == "extended"
    assert (event.actor, event.at, event.reason) == (STAFF, NOW, "Requiere concepto técnico")
    assert event.from_ == "2027-01-13T23:59:59-05:00"
    assert event.to == "2027-01-20T23:59:59-05:00"


def test_extension_new_due_read_in_local_time() -> None:
    pqr = make_pqr()
    # 2027-01-21T03:00Z is Wed 2027-01-20 22:00 in Bogotá.
    pqr.extend(dt.datetime.fromisoformat("2027-01-21T03:00:00+00:00"), actor=STAFF, now=NOW,
               reason="Requiere concepto", policy=POLICY)
    assert pqr.due_at == eod(2027, 1, 20)


def test_extension_exactly_at_limit_is_accepted() -> None:
    pqr = make_pqr()
    pqr.extend(bog(2027, 2, 3, 9), actor=STAFF, now=NOW, reason="Complejo", policy=POLICY)
    assert pqr.due_at == eod(2027, 2, 3) == POLICY.extension_limit(PqrType.PETICION, RECEIVED)


def test_extension_on_last_instant_of_due_date_is_accepted() -> None:
    pqr = make_pqr()
    pqr.extend(bog(2027, 1, 20, 9), actor=STAFF, now=pqr.due_at, reason="Complejo", policy=POLICY)
    assert pqr.extended


def test_extension_only_once() -> None:
    pqr = make_pqr()
    pqr.extend(bog(2027, 1, 20, 9), actor=STAFF, now=NOW, reason="Complejo", policy=POLICY)
    with pytest.raises(ExtensionRefused) as err:
        pqr.extend(bog(2027, 1, 27, 9), actor=STAFF, now=NOW, reason="Otra vez", policy=POLICY)
    assert err.value.reason == "already_extended"
    assert pqr.due_at == eod(2027, 1, 20)


@pytest.mark.parametrize("reason", ["", "   "])
def test_extension_needs_a_reason(reason: str) -> None:
    pqr = make_pqr()
    with pytest.raises(ExtensionRefused) as err:
        pqr.extend(bog(2027, 1, 20, 9), actor=STAFF, now=NOW, reason=reason, policy=POLICY)
    assert err.value.reason == "reason_required"
    assert not pqr.extended and pqr.due_at == eod(2027, 1, 13)


def test_extension_refused_after_due_date() -> None:
    pqr = make_pqr()
    with pytest.raises(ExtensionRefused) as err:
        pqr.extend(bog(2027, 1, 20, 9), actor=STAFF, now=bog(2027, 1, 14, 0, 0, 0), reason="Tarde",
                   policy=POLICY)
    assert err.value.reason == "past_due"
    assert err.value.limit == eod(2027, 1, 13)
    assert not pqr.extended


def test_extension_refused_when_not_later() -> None:
    pqr = make_pqr()
    for new_due in (bog(2027, 1, 13, 9), bog(2027, 1, 12, 9)):
        with pytest.raises(ExtensionRefused) as err:
            pqr.extend(new_due, actor=STAFF, now=NOW, reason="Complejo", policy=POLICY)
        assert err.value.reason == "not_later"
    assert not pqr.extended


def test_extension_refused_over_limit() -> None:
    pqr = make_pqr()
    with pytest.raises(ExtensionRefused) as err:
        pqr.extend(bog(2027, 2, 4, 9), actor=STAFF, now=NOW, reason="Complejo", policy=POLICY)
    assert err.value.reason == "over_limit"
    assert err.value.limit == eod(2027, 2, 3)
    assert not pqr.extended and pqr.due_at == eod(2027, 1, 13)


@pytest.mark.parametrize("pqr_type, ok, too_far", [
    (PqrType.HABEAS_CONSULTA, bog(2027, 1, 13, 9), bog(2027, 1, 14, 9)),  # due Jan 5, +5
    (PqrType.HABEAS_RECLAMO, bog(2027, 1, 25, 9), bog(2027, 1, 26, 9)),   # due Jan 13, +8
], ids=["habeas_consulta", "habeas_reclamo"])
def test_habeas_extension_limits(pqr_type: PqrType, ok: dt.datetime, too_far: dt.datetime) -> None:
    refused = make_pqr(pqr_type)
    with pytest.raises(ExtensionRefused) as err:
        refused.extend(too_far, actor=STAFF, now=NOW, reason="Complejo", policy=POLICY)
    assert err.value.reason == "over_limit"
    accepted = make_pqr(pqr_type)
    accepted.extend(ok, actor=STAFF, now=NOW, reason="Complejo", policy=POLICY)
    assert accepted.due_at == CAL.end_of_day(ok.date())


@pytest.mark.parametrize("day", [bog(2027, 1, 16, 9), bog(2027, 1, 17, 9), bog(2027, 1, 11, 9)],
                         ids=["saturday", "sunday", "holiday"])
def test_extension_refused_on_non_business_day(day: dt.datetime) -> None:
    pqr = make_pqr()
    with pytest.raises(ExtensionRefused) as err:
        pqr.extend(day, actor=STAFF, now=NOW, reason="Complejo", policy=POLICY)
    assert err.value.reason == "not_business_day"
    assert err.value.limit == day.date()


def test_extension_refused_when_closed() -> None:
    pqr = make_pqr()
    pqr.close("Listo", actor=STAFF, now=NOW, channel="email")
    with pytest.raises(ExtensionRefused) as err:
        pqr.extend(bog(2027, 1, 20, 9), actor=STAFF, now=NOW, reason="Complejo", policy=POLICY)
    assert err.value.reason == "closed"


def test_extension_limit_for_contract_pqr_counts_from_law() -> None:
    contract = ContractTerms("ACME", resolution={PqrType.PETICION: Target(5, Unit.DAYS)})
    pqr = make_pqr(contract=contract)
    assert pqr.due_at == eod(2026, 12, 28)
    pqr.extend(bog(2027, 1, 5, 9), actor=STAFF, now=NOW, reason="Complejo", policy=POLICY)
    assert pqr.due_at == eod(2027, 1, 5)


# -- SLA state ---------------------------------------------------------------------------------

def test_sla_ok_near_breach_breached_closed() -> None:
    pqr = make_pqr()   # due Wed 2027-01-13 23:59:59
    assert pqr.sla_state(bog(2026, 12, 21, 9), CAL, 2) is SlaState.OK
    assert pqr.sla_state(bog(2027, 1, 7, 9), CAL, 2) is SlaState.OK            # Jan 8, 12, 13 left
    assert pqr.sla_state(bog(2027, 1, 8, 9), CAL, 2) is SlaState.NEAR_BREACH   # Jan 12, 13 left
    assert pqr.sla_state(bog(2027, 1, 11, 9), CAL, 2) is SlaState.NEAR_BREACH  # on the holiday itself
    assert pqr.sla_state(bog(2027, 1, 12, 9), CAL, 2) is SlaState.NEAR_BREACH
    assert pqr.sla_state(bog(2027, 1, 13, 23, 59, 59), CAL, 2) is SlaState.NEAR_BREACH
    assert pqr.sla_state(bog(2027, 1, 14, 0, 0, 0), CAL, 2) is SlaState.BREACHED
    pqr.close("Listo", actor=STAFF, now=bog(2027, 1, 14, 9), channel="email")
    assert pqr.sla_state(bog(2027, 1, 14, 9), CAL, 2) is SlaState.CLOSED


def test_sla_near_breach_counts_business_days() -> None:
    due = eod(2027, 1, 13)
    # From Fri Jan 8 the business days left are Jan 12 and 13 (Jan 11 holiday, weekend).
    assert sla_state(Status.EN_TRAMITE, due, bog(2027, 1, 8, 9), CAL, 2) is SlaState.NEAR_BREACH
    # From Thu Jan 7: Jan 8, 12, 13.
    assert sla_state(Status.EN_TRAMITE, due, bog(2027, 1, 7, 9), CAL, 2) is SlaState.OK
    assert sla_state(Status.EN_TRAMITE, due, bog(2027, 1, 7, 9), CAL, 3) is SlaState.NEAR_BREACH
    assert sla_state(Status.EN_TRAMITE, due, bog(2027, 1, 12, 9), CAL, 0) is SlaState.OK
    assert sla_state(Status.EN_TRAMITE, due, bog(2027, 1, 13, 9), CAL, 0) is SlaState.NEAR_BREACH


def test_sla_breached_in_other_offset() -> None:
    due = eod(2027, 1, 13)
    just_after = dt.datetime.fromisoformat("2027-01-14T05:00:00+00:00")  # 00:00 Bogotá
    just_before = dt.datetime.fromisoformat("2027-01-14T04:59:59+00:00")
    assert sla_state(Status.ASIGNADA, due, just_after, CAL, 2) is SlaState.BREACHED
    assert sla_state(Status.ASIGNADA, due, just_before, CAL, 2) is SlaState.NEAR_BREACH


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_sla_open_statuses_are_not_closed(status: Status) -> None:
    assert sla_state(status, eod(2027, 1, 13), bog(2027, 2, 1), CAL, 2) is SlaState.BREACHED


def test_sla_closed_even_when_past_due() -> None:
    assert sla_state(Status.CERRADA, eod(2027, 1, 13), bog(2027, 2, 1), CAL, 2) is SlaState.CLOSED


SECOND = dt.timedelta(seconds=1)


def test_sla_windows_weekday() -> None:
    """The window ends are exclusive bounds: the first instant after the local day."""
    now = bog(2026, 12, 21, 9)   # Monday
    w = sla_windows(now, CAL, 2)
    assert w.now == now
    assert w.end_of_today == eod(2026, 12, 21) + SECOND == bog(2026, 12, 22)
    assert w.end_of_soon == eod(2026, 12, 23) + SECOND == bog(2026, 12, 24)


def test_sla_windows_split_due_dates() -> None:
    now = bog(2026, 12, 21, 9)
    w = sla_windows(now, CAL, 2)
    due_today, due_soon, later = eod(2026, 12, 21), eod(2026, 12, 23), eod(2026, 12, 24)
    assert now <= due_today < w.end_of_today
    assert w.end_of_today <= due_soon < w.end_of_soon
    assert later >= w.end_of_soon


def test_sla_windows_across_weekend_and_holiday() -> None:
    # Thu Dec 24 2026: Fri 25 holiday, weekend -> 1st business day Mon 28, 2nd Tue 29.
    w = sla_windows(bog(2026, 12, 24, 17), CAL, 2)
    assert w.end_of_today == eod(2026, 12, 24) + SECOND
    assert w.end_of_soon == eod(2026, 12, 29) + SECOND
    # Fri 2027-01-08: Mon 11 holiday -> Tue 12, Wed 13.
    w = sla_windows(bog(2027, 1, 8, 9), CAL, 2)
    assert w.end_of_soon == eod(2027, 1, 13) + SECOND


def test_sla_windows_on_weekend_and_other_offset() -> None:
    # 2026-12-19T03:30Z is Friday 22:30 in Bogotá: today is Friday.
    w = sla_windows(dt.datetime.fromisoformat("2026-12-19T03:30:00+00:00"), CAL, 1)
    assert w.end_of_today == eod(2026, 12, 18) + SECOND
    assert w.end_of_soon == eod(2026, 12, 21) + SECOND
    # On a Saturday, "today" is still Saturday and soon counts business days after it.
    w = sla_windows(bog(2026, 12, 19, 10), CAL, 1)
    assert w.end_of_today == eod(2026, 12, 19) + SECOND
    assert w.end_of_soon == eod(2026, 12, 21) + SECOND


def test_sla_windows_zero_warning_days() -> None:
    w = sla_windows(bog(2026, 12, 21, 9), CAL, 0)
    assert w.end_of_soon == w.end_of_today
