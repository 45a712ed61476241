"""Outbox payloads: one pydantic model per `kind`, and their discriminated union.

A payload is validated when its row is queued (`model.stored()` is what goes into
`OutboxItem.payload`) and parsed again when the row is sent (`parse`), so a misspelt kind or
field fails at once instead of falling into some plain-text branch of an adapter.

The stored dict keeps the keys rows have always had: `stored()` dumps the fields that were given,
with `kind` first. Keys that only some rows of a kind carry (the email threading ids of a customer
message, an alert's `due_at`, the digest's sections) are optional fields left out when not given;
a field given as None is stored as null, as before. Rows queued by earlier versions parse as they
are (tests/unit/test_outbox_payloads.py keeps one of each)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class BasePayload(BaseModel):
    """What every payload shares: its `kind`, and how it is stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str

    def stored(self) -> dict[str, Any]:
        """The JSON dict for `OutboxItem.payload`: `kind`, then the fields that were given."""
        return {"kind": self.kind, **self.model_dump(mode="json", exclude_unset=True)}

    @property
    def about(self) -> str | None:
        """The radicado the message is about, when it names one."""
        value = getattr(self, "radicado", None)
        return value if isinstance(value, str) and value else None


# -- to customers (bot.pqrs.notices) ------------------------------------------------------------

class CustomerMessage(BasePayload):
    """A message to a customer on the channel they can be reached on. The threading fields and
    `auto_submitted` are set on email rows only."""

    radicado: str | None
    language: str
    subject: str
    text: str
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    auto_submitted: bool = False


class Ack(CustomerMessage):
    """The acknowledgment of a new PQR, with its radicado and due date."""

    kind: Literal["ack"] = "ack"


class Extension(CustomerMessage):
    """The term was extended: the new due date and the reason."""

    kind: Literal["extension"] = "extension"


class Reply(CustomerMessage):
    """Staff's answer to the customer."""

    kind: Literal["reply"] = "reply"


class Closing(CustomerMessage):
    """The final answer, sent when the PQR is closed."""

    kind: Literal["closing"] = "closing"


CustomerKind = Literal["ack", "extension", "reply", "closing"]
CUSTOMER_MESSAGES: dict[CustomerKind, type[Ack] | type[Extension] | type[Reply] | type[Closing]] = {
    "ack": Ack, "extension": Extension, "reply": Reply, "closing": Closing}


# -- to staff -----------------------------------------------------------------------------------

class Triage(BasePayload):
    """A new PQR for Slack's triage channel; the card is drawn from the PQR's state at send time."""

    kind: Literal["triage"] = "triage"
    radicado: str


class Followup(BasePayload):
    """A customer's follow-up joined a PQR (bot.pqrs.followups)."""

    kind: Literal["followup"] = "followup"
    radicado: str
    language: str
    subject: str
    text: str


class Alert(BasePayload):
    """Something staff should look at: an SLA window (`alert` = breached | near_breach, with
    `due_at`), a customer who blocked the bot (`alert` = unreachable), or just a text."""

    kind: Literal["alert"] = "alert"
    alert: str | None = None
    radicado: str | None = None
    text: str
    due_at: str | None = None


class DigestGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    area: str
    assignee: str
    count: int


class DigestItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    radicado: str | None
    type: str
    subject: str
    assignee: str | None
    area: str | None
    due_at: str


class DigestSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    title: str
    count: int
    groups: list[DigestGroup]
    items: list[DigestItem]


class Digest(BasePayload):
    """The daily SLA digest (bot.sla.digest): `text` for every channel, `sections` for rich
    renderers. Rows of earlier versions carry only subject, text and auto_submitted; `blocks` is
    ready-made Block Kit that Slack posts as it is."""

    kind: Literal["digest"] = "digest"
    subject: str | None = None
    text: str
    sections: list[DigestSection] | None = None
    at: str | None = None
    auto_submitted: bool = False
    language: str | None = None
    blocks: list[dict[str, Any]] | None = None


class OutboxDead(BasePayload):
    """An outbox row went dead (bot.runner.dead_letter_alert)."""

    kind: Literal["outbox_dead"] = "outbox_dead"
    text: str


# -- penalties (bot.penalties.notices) ----------------------------------------------------------

class PenaltyFields(BasePayload):
    """The penalty as every penalty notice carries it. Each kind declares its own extras before
    subject, text and auto_submitted, so the stored keys keep their order."""

    penalty_id: int | None
    client: str
    category: str
    category_label: str
    amount: str
    currency: str
    amount_text: str
    area: str
    pqr: str | None
    status: str
    description: str | None
    language: str


class PenaltyEvidenceRequest(PenaltyFields):
    """To the responsible area: evidence and justification are needed."""

    kind: Literal["penalty_evidence_request"] = "penalty_evidence_request"
    subject: str
    text: str
    auto_submitted: bool = False


class EvidenceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    filename: str
    size: int
    sha256: str


class EvidenceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    author: str
    at: str
    files: list[EvidenceFile]


class DecisionAction(BaseModel):
    """A decision button: penalty_approve or penalty_reject, `value` the penalty id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str
    value: str
    label: str


class PenaltyDecision(PenaltyFields):
    """To every manager: the case card with Aprobar / Rechazar (bot.penalties.cards)."""

    kind: Literal["penalty_decision"] = "penalty_decision"
    evidence_summary: str
    evidence: list[EvidenceEntry]
    actions: list[DecisionAction]
    subject: str
    text: str
    auto_submitted: bool = False


class PenaltyClientNotice(PenaltyFields):
    """To the client: the company's decision and its reason."""

    kind: Literal["penalty_client_notice"] = "penalty_client_notice"
    decision: str | None
    reason: str | None
    subject: str
    text: str
    auto_submitted: bool = False


class PenaltyPaymentAuthorization(PenaltyFields):
    """To accounting: pay this accepted penalty."""

    kind: Literal["penalty_payment_authorization"] = "penalty_payment_authorization"
    decided_by: str | None
    reason: str | None
    subject: str
    text: str
    auto_submitted: bool = False


PenaltyNotice = Union[PenaltyEvidenceRequest, PenaltyDecision, PenaltyClientNotice, PenaltyPaymentAuthorization]


# -- answer approval (bot.review.notices) -------------------------------------------------------

class AnswerReview(BasePayload):
    """To every manager: a final answer waiting in en_revision, with Aprobar / Devolver
    (`actions`: answer_approve / answer_return, `value` = "RADICADO:draft number"). The draft is
    carried in full (`answer`); `due_text` and `time_left` are as of queueing."""

    kind: Literal["answer_review"] = "answer_review"
    radicado: str
    draft: int
    type: str
    type_label: str
    pqr_subject: str
    customer: str
    due_at: str
    due_text: str
    time_left: str
    drafter: str
    answer: str
    language: str
    actions: list[DecisionAction]
    subject: str
    text: str
    auto_submitted: bool = False


# -- scheduled reports (bot.reports.schedule) ---------------------------------------------------

class ReportFileRef(BaseModel):
    """A stored report file (storage `report_files`), named by id: the bytes stay in the
    database and the adapter loads them when it sends (bot.ports.files.ReportFiles)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file_id: int
    filename: str
    content_type: str


class ReportDelivery(BasePayload):
    """A scheduled report (`report` monthly | client) for `period` (`2026-11`, `2026-Q4`, …),
    with its XLSX and PDF: one mail with both attached, or both uploaded to a Slack channel."""

    kind: Literal["report"] = "report"
    report: str
    period: str
    client: str | None
    language: str
    subject: str
    text: str
    files: list[ReportFileRef] = Field(min_length=1)


# -- satisfaction surveys (bot.surveys) ---------------------------------------------------------

class SurveyRequest(BasePayload):
    """A survey to a customer or a client contact; unsolicited (it waits for the contact hours).
    `text` is the question in plain text; email carries `url` (the survey page, `/encuesta/…`)
    and `optout_url`; Telegram draws buttons `low`…`high` whose data names `survey_id`."""

    survey_id: int
    language: str
    subject: str
    text: str
    low: int
    high: int
    url: str | None = None
    optout_url: str | None = None
    auto_submitted: bool = True


class SurveyCsat(SurveyRequest):
    """The 1–5 rating after a PQR closed (`radicado`)."""

    kind: Literal["survey_csat"] = "survey_csat"
    radicado: str | None = None


class SurveyNps(SurveyRequest):
    """The 0–10 question of an NPS campaign (`client`: the company it is worded for)."""

    kind: Literal["survey_nps"] = "survey_nps"
    campaign: str | None = None
    client: str | None = None


class SurveyAlert(BasePayload):
    """To staff: a low CSAT (`alert` = low_csat, with a button that reopens `radicado`) or an NPS
    detractor (`alert` = detractor, with a button that files a PQR from the answer). `comment`
    is the customer's own text, escaped by each renderer."""

    kind: Literal["survey_alert"] = "survey_alert"
    alert: Literal["low_csat", "detractor"]
    survey_id: int
    score: int
    comment: str | None
    contact: str
    client: str | None = None
    radicado: str | None = None
    language: str
    subject: str
    text: str
    action: DecisionAction | None = None


OutboxPayload = Annotated[
    Union[Ack, Extension, Reply, Closing, Triage, Followup, Alert, Digest, OutboxDead,
          PenaltyEvidenceRequest, PenaltyDecision, PenaltyClientNotice, PenaltyPaymentAuthorization,
          ReportDelivery, AnswerReview, SurveyCsat, SurveyNps, SurveyAlert],
    Field(discriminator="kind")]

PAYLOADS: TypeAdapter[OutboxPayload] = TypeAdapter(OutboxPayload)
KINDS: tuple[type[BasePayload], ...] = (
    Ack, Extension, Reply, Closing, Triage, Followup, Alert, Digest, OutboxDead,
    PenaltyEvidenceRequest, PenaltyDecision, PenaltyClientNotice, PenaltyPaymentAuthorization, ReportDelivery,
    AnswerReview, SurveyCsat, SurveyNps, SurveyAlert)


class InvalidPayload(ValueError):
    """A stored payload that is not one of the kinds above (or not a valid one)."""


def parse(stored: Mapping[str, Any]) -> OutboxPayload:
    """The typed payload of a stored row; InvalidPayload (naming the kind and the fields at fault)
    when it does not parse."""
    try:
        return PAYLOADS.validate_python(stored)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'payload'}: {e['msg']}"
                             for e in exc.errors())
        raise InvalidPayload(f"outbox payload of kind {stored.get('kind')!r} does not parse: {problems}") from exc
