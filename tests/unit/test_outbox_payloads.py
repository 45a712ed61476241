"""Typed outbox payloads: rows stored before the models existed (and by earlier versions) parse into
their kind and store back key for key; the code that queues rows stores exactly the keys it stored
before; a row that does not parse is refused with the kind and the field at fault."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from bot.ports.payloads import (KINDS, Ack, Alert, AnswerReview, BasePayload, Closing, Digest, Extension, Followup,
                                 InvalidPayload, OutboxDead, PenaltyClientNotice, PenaltyDecision,
                                 PenaltyEvidenceRequest, PenaltyPaymentAuthorization, Reply, ReportDelivery,
                                 SurveyAlert, SurveyCsat, SurveyNps, Triage, parse)
from bot.penalties.notices import PenaltyNotices
from bot.pqrs.followups import followup_notices
from bot.pqrs.notices import Notifier
from bot.pqrs.service import Digest as DigestData
from bot.sla.digest import digest_payload
from domain.calendar import BusinessCalendar
from domain.contracts import Area, Client
from domain.customer import Customer
from domain.penalty import Penalty, PenaltyCategory
from domain.files import FileData
from domain.pqr import Pqr
from domain.pqr_types import PqrType
from domain.terms import TermPolicy

CAL = BusinessCalendar()
T0 = dt.datetime.fromisoformat("2026-12-18T10:00:00-05:00")
RAD = "PQR-2026-000001"

_PENALTY = {"penalty_id": 9, "client": "Cliente S.A.", "category": "kpi_ans", "category_label": "KPI / ANS",
            "amount": "1500000.50", "currency": "COP", "amount_text": "COP 1.500.000,50", "area": "lab",
            "pqr": RAD, "status": "en_evaluacion", "description": None, "language": "es"}

# One row of each kind (and of each shape a kind has had) as the dict-building code stored it.
STORED: dict[str, tuple[type[BasePayload], dict[str, Any]]] = {
    "ack by email": (Ack, {
        "kind": "ack", "radicado": RAD, "language": "es", "subject": f"[{RAD}] Hemos recibido su queja",
        "text": "Hemos recibido su queja.", "message_id": f"<{RAD}.0000000000000007@pqr.example.co>",
        "in_reply_to": "<m1@cliente.co>", "references": ["<m1@cliente.co>"], "auto_submitted": True}),
    "ack on telegram": (Ack, {
        "kind": "ack", "radicado": RAD, "language": "es", "subject": f"[{RAD}] Hemos recibido su queja",
        "text": "Hemos recibido su queja."}),
    "extension by email, first mail": (Extension, {
        "kind": "extension", "radicado": RAD, "language": "en", "subject": f"[{RAD}] Term extended",
        "text": "The term was extended.", "message_id": "<x@pqr.example.co>", "in_reply_to": None,
        "references": [], "auto_submitted": True}),
    "reply by email": (Reply, {
        "kind": "reply", "radicado": RAD, "language": "es", "subject": f"[{RAD}] Respuesta",
        "text": "Hola Ana -- ya lo revisamos", "message_id": "<r@pqr.example.co>",
        "in_reply_to": "<m1@cliente.co>", "references": ["<m1@cliente.co>", "<a@pqr.example.co>"],
        "auto_submitted": False}),
    "closing on telegram": (Closing, {
        "kind": "closing", "radicado": RAD, "language": "es", "subject": f"[{RAD}] Respuesta final",
        "text": "Caso resuelto."}),
    "triage": (Triage, {"kind": "triage", "radicado": RAD}),
    "followup": (Followup, {
        "kind": "followup", "radicado": RAD, "language": "es", "subject": f"Seguimiento de {RAD}",
        "text": f"Ana escribió sobre {RAD} (email): me cobraron"}),
    "SLA alert": (Alert, {
        "kind": "alert", "alert": "breached", "radicado": RAD, "text": f"⚠ {RAD} VENCIDA",
        "due_at": "2026-12-22T04:59:59+00:00"}),
    "unreachable alert without radicado": (Alert, {
        "kind": "alert", "alert": "unreachable", "radicado": None, "text": "El chat 42 bloqueó el bot"}),
    "plain alert (bench.outbox)": (Alert, {"kind": "alert", "text": "⚠ PQR-2026-000001 VENCIDA"}),
    "digest": (Digest, {
        "kind": "digest", "subject": "Resumen de ANS 2026-12-18", "text": "Vencidas: 1",
        "sections": [{"key": "breached", "title": "Vencidas", "count": 1,
                      "groups": [{"area": "Sin área", "assignee": "Sin asignar", "count": 1}],
                      "items": [{"radicado": RAD, "type": "queja", "subject": "Cobro", "assignee": None,
                                 "area": None, "due_at": "2026-12-21T23:59:59-05:00"}]},
                     {"key": "due_soon", "title": "Vencen pronto", "count": 0, "groups": [], "items": []}],
        "at": "2026-12-18T10:00:00-05:00", "auto_submitted": True, "language": "es"}),
    "digest of the first version": (Digest, {
        "kind": "digest", "subject": "Resumen de ANS 2026-12-18", "text": "Vencidas: 1", "auto_submitted": True}),
    "digest with ready-made blocks": (Digest, {
        "kind": "digest", "text": "2 vencidas", "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                                                          "text": "*Resumen*"}}]}),
    "outbox_dead": (OutboxDead, {"kind": "outbox_dead", "text": "No se pudo entregar a email:ana@x.co"}),
    "penalty_evidence_request": (PenaltyEvidenceRequest, {
        "kind": "penalty_evidence_request", **_PENALTY, "subject": "Evidencia para la penalidad #9",
        "text": "Envíe la evidencia", "auto_submitted": True}),
    "penalty_decision": (PenaltyDecision, {
        "kind": "penalty_decision", **_PENALTY, "evidence_summary": "acta [a.pdf]",
        "evidence": [{"text": "acta", "author": "slack:U1", "at": "2026-12-18T10:00:00-05:00",
                      "files": [{"filename": "a.pdf", "size": 2, "sha256": "5dde8968"}]}],
        "actions": [{"action": "penalty_approve", "value": "9", "label": "Aprobar"},
                    {"action": "penalty_reject", "value": "9", "label": "Rechazar"}],
        "subject": "Decidir penalidad #9 de Cliente S.A.", "text": "Penalidad #9", "auto_submitted": True}),
    "penalty_client_notice": (PenaltyClientNotice, {
        "kind": "penalty_client_notice", **_PENALTY, "decision": "aprobada", "reason": "ANS incumplido",
        "subject": "Respuesta a la penalidad #9", "text": "Señores Cliente S.A.", "auto_submitted": True}),
    "penalty_client_notice of a penalty without id or decision": (PenaltyClientNotice, {
        "kind": "penalty_client_notice", **_PENALTY, "penalty_id": None, "decision": None, "reason": None,
        "subject": "Respuesta a la penalidad #None", "text": "Señores Cliente S.A.", "auto_submitted": True}),
    "penalty_payment_authorization": (PenaltyPaymentAuthorization, {
        "kind": "penalty_payment_authorization", **_PENALTY, "decided_by": "slack:U0BOSS", "reason": "ok",
        "subject": "Pagar la penalidad #9", "text": "Autorizado", "auto_submitted": True}),
    "report": (ReportDelivery, {
        "kind": "report", "report": "client", "period": "2026-Q4", "client": "Cliente S.A.", "language": "es",
        "subject": "Informe de ANS · Cliente S.A. · 2026-Q4", "text": "Adjunto va el informe",
        "files": [{"file_id": 1, "filename": "informe.xlsx",
                   "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
                  {"file_id": 2, "filename": "informe.pdf", "content_type": "application/pdf"}]}),
    "answer_review": (AnswerReview, {
        "kind": "answer_review", "radicado": RAD, "draft": 1, "type": "queja", "type_label": "Queja",
        "pqr_subject": "Cobro doble", "customer": "Ana", "due_at": "2027-01-13T23:59:59-05:00",
        "due_text": "2027-01-13 23:59", "time_left": "quedan 15 días hábiles", "drafter": "slack:U0STAFF",
        "answer": "Le reintegramos el cobro.", "language": "es",
        "actions": [{"action": "answer_approve", "value": f"{RAD}:1", "label": "Aprobar"},
                    {"action": "answer_return", "value": f"{RAD}:1", "label": "Devolver"}],
        "subject": f"[{RAD}] Respuesta por aprobar (Queja)", "text": "Respuesta final por aprobar",
        "auto_submitted": True}),
    "survey_csat": (SurveyCsat, {
        "kind": "survey_csat", "survey_id": 3, "language": "es", "subject": f"[{RAD}] ¿Cómo le atendimos?",
        "text": "¿Qué tan satisfecho quedó?", "low": 1, "high": 5, "url": "http://127.0.0.1:8080/encuesta/T",
        "optout_url": "http://127.0.0.1:8080/encuesta/T/baja", "radicado": RAD}),
    "survey_nps": (SurveyNps, {
        "kind": "survey_nps", "survey_id": 4, "language": "es", "subject": "¿Recomendaría a nuestra empresa?",
        "text": "¿Qué tan probable es…?", "low": 0, "high": 10, "campaign": "nps-2026-12-21-b2b-abc123",
        "client": "Cliente S.A."}),
    "survey_alert": (SurveyAlert, {
        "kind": "survey_alert", "alert": "detractor", "survey_id": 4, "score": 3, "comment": "Lentos",
        "contact": "email:compras@cliente.example.co", "client": "Cliente S.A.", "language": "es",
        "subject": "NPS: detractor (3/10) · Cliente S.A.", "text": "Por qué: Lentos",
        "action": {"action": "survey_followup", "value": "4", "label": "Radicar una PQR"}}),
}


@pytest.mark.parametrize("name", STORED)
def test_a_stored_row_parses_into_its_kind_and_stores_back_key_for_key(name: str) -> None:
    model, row = STORED[name]
    payload = parse(row)
    assert type(payload) is model
    assert payload.stored() == row
    assert list(payload.stored()) == list(row)


def test_every_kind_has_a_stored_example() -> None:
    assert {model for model, _ in STORED.values()} == set(KINDS)


@pytest.mark.parametrize(("row", "error"), [
    ({"text": "hola"}, "kind None.*discriminator"),
    ({"kind": "alrt", "text": "hola"}, "kind 'alrt'.*does not match"),
    ({"kind": "alert"}, r"alert\.text: Field required"),
    ({"kind": "triage", "radicado": RAD, "radicdo": RAD}, r"triage\.radicdo: Extra inputs"),
    ({"kind": "followup", "radicado": RAD, "language": "es", "subject": "s", "text": 5}, r"followup\.text"),
])
def test_a_row_that_does_not_parse_is_refused_naming_kind_and_field(row: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidPayload, match=error):
        parse(row)


def test_a_typo_is_refused_when_the_row_is_built() -> None:
    with pytest.raises(ValueError):
        Alert(text="x", radicdo=RAD)  # type: ignore[call-arg]


# -- the code that queues rows stores the keys it stored before -----------------------------------

CUSTOMER_KEYS = ["kind", "radicado", "language", "subject", "text"]
EMAIL_KEYS = CUSTOMER_KEYS + ["message_id", "in_reply_to", "references", "auto_submitted"]
PENALTY_KEYS = ["kind", *_PENALTY]


def filed(customer: Customer) -> Pqr:
    pqr = Pqr.file(pqr_type=PqrType.QUEJA, channel="email" if customer.email else "telegram", customer=customer,
                   subject="Cobro", body="me cobraron", received_at=T0, policy=TermPolicy(calendar=CAL),
                   actor="x", external_id="<m1@cliente.co>" if customer.email else None)
    pqr.radicado, pqr.id = RAD, 1
    return pqr


def test_customer_messages_store_todays_keys() -> None:
    notifier = Notifier(CAL, slack_triage_channel="C0TRIAGE")
    by_mail, by_chat = filed(Customer("Ana", email="ana@cliente.co")), filed(Customer("Tg", telegram_chat_id=42))
    ack = notifier.acknowledgment(by_mail)
    assert ack is not None and list(ack.payload) == EMAIL_KEYS
    assert ack.payload["kind"] == "ack" and ack.payload["auto_submitted"] is True
    assert ack.payload["in_reply_to"] == "<m1@cliente.co>" and ack.payload["references"] == ["<m1@cliente.co>"]
    reply = notifier.to_customer(by_mail, kind="reply", subject_key="customer.reply_subject", text="hola")
    assert reply is not None and list(reply.payload) == EMAIL_KEYS and reply.payload["auto_submitted"] is False
    extension = notifier.extension(by_chat, "más tiempo")
    assert extension is not None and list(extension.payload) == CUSTOMER_KEYS
    assert extension.payload["kind"] == "extension" and extension.payload["radicado"] == RAD
    triage = notifier.slack_triage(by_mail)
    assert triage is not None and triage.payload == {"kind": "triage", "radicado": RAD}


def test_followups_store_todays_keys() -> None:
    pqr = filed(Customer("Ana", email="ana@cliente.co"))
    [row] = followup_notices(pqr, pqr.messages[0], language="es", staff=lambda who: [], triage="C0TRIAGE")
    assert list(row.payload) == CUSTOMER_KEYS and row.payload["kind"] == "followup"


def test_the_digest_stores_todays_keys() -> None:
    pqr = filed(Customer("Ana", email="ana@cliente.co"))
    digest = DigestData(at=T0, breached=[pqr], counts={"breached": 1}, groups={"breached": [(None, None, 1)]})
    stored = digest_payload(digest, CAL, "es").stored()
    assert list(stored) == ["kind", "subject", "text", "sections", "at", "auto_submitted", "language"]
    assert [list(s) for s in stored["sections"]] == [["key", "title", "count", "groups", "items"]] * 4
    assert [s["key"] for s in stored["sections"]] == ["breached", "due_today", "due_soon", "awaiting_approval"]
    assert list(stored["sections"][0]["groups"][0]) == ["area", "assignee", "count"]
    assert stored["sections"][0]["items"] == [{"radicado": RAD, "type": "queja", "subject": "Cobro", "assignee": None,
                                               "area": None, "due_at": CAL.local(pqr.due_at).isoformat()}]


def test_penalty_notices_store_todays_keys() -> None:
    notices = PenaltyNotices(calendar=CAL, managers=("slack:U0BOSS",), accounting_slack="C0ACC",
                             enabled=("slack", "email"))
    p = Penalty.register(client="Cliente S.A.", category=PenaltyCategory.KPI_ANS, amount=Decimal("1500000.50"),
                         currency="COP", area="lab", actor="slack:U0", now=T0, pqr=RAD)
    p.id = 9
    p.add_evidence("acta", actor="slack:U1", now=T0, files=[FileData("a.pdf", "application/pdf", b"xx")])
    [ask] = notices.evidence_request(p, Area(name="lab", slack_channel="C0LAB"))
    assert list(ask.payload) == PENALTY_KEYS + ["subject", "text", "auto_submitted"]
    [card] = notices.decision_request(p)
    assert list(card.payload) == PENALTY_KEYS + ["evidence_summary", "evidence", "actions", "subject", "text",
                                                 "auto_submitted"]
    assert card.payload["evidence"] == [{"text": "acta", "author": "slack:U1", "at": T0.isoformat(),
                                         "files": [{"filename": "a.pdf", "size": 2,
                                                    "sha256": FileData("a.pdf", "", b"xx").sha256}]}]
    assert [list(a) for a in card.payload["actions"]] == [["action", "value", "label"]] * 2
    p.decide(True, reason="ok", actor="slack:U0BOSS", now=T0)
    [client] = notices.client_notice(p, Client(name="Cliente S.A.", notify_emails=("c@cliente.co",)))
    assert list(client.payload) == PENALTY_KEYS + ["decision", "reason", "subject", "text", "auto_submitted"]
    pay = notices.payment_authorization(p)
    assert [list(r.payload) for r in pay] == [PENALTY_KEYS + ["decided_by", "reason", "subject", "text",
                                                              "auto_submitted"]]
