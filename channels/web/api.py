"""The REST API under /api/v1 for other systems (CRM, BI): DESIGN.md "Web".

A bearer token from `pqrbot token create` (bot.access keeps only its hash) is looked up on every
request — unknown, revoked or missing: 401 with `WWW-Authenticate: Bearer`; a role that may not:
403, written to the audit trail. Every write acts as `api:<token name>`. PQRs and penalties are the
CLI's JSON (`bot.cli.serialize`); the response models below say in /api/openapi.json what those
documents hold (explicit fields, checked against the CLI's shape by the tests). Errors are the
app's `{"error", "detail"}`, the detail of a domain refusal its catalogue text. `POST /pqrs` takes
an `Idempotency-Key` header (bot.pqrs.api_filing): a retry with the same key and token within 24
hours answers with the PQR the first one filed."""

# No `from __future__ import annotations` here: FastAPI reads the routes' annotations, and those
# name dependencies that live in `routes`' scope.
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from bot.cli.serialize import penalty_json, pqr_json
from bot.commands.refusals import refusal_text
from bot.i18n import t
from bot.pqrs.api_filing import file_once
from bot.pqrs.listing import pqr_page
from bot.pqrs.service import FilingRequest
from bot.reports.queries import kpis
from bot.roles import Role
from channels.web.pages import language
from channels.web.services import WebServices
from domain.customer import email_address
from domain.errors import DomainError, InvalidInput, InvalidTransition, NotFound
from domain.limits import (AREA_MAX, CHANNEL_MAX, CLIENT_MAX, EMAIL_MAX, FIRST_INSTANT, INT32_MAX, LAST_INSTANT,
                           NAME_MAX, PHONE_MAX, RADICADO_MAX, SUBJECT_MAX)
from domain.penalty import PenaltyCategory, PenaltyStatus
from domain.pqr import Direction, SlaState
from domain.pqr_types import PqrType, Status

PER_PAGE_MAX = 100
IDEMPOTENCY_KEY_MAX = 255
FIRST_DAY, LAST_DAY = FIRST_INSTANT.date(), LAST_INSTANT.date()       # the years `report kpis` takes
STATUS_PATTERN = "^(" + "|".join(("all", *Status)) + ")$"
EXAMPLE_RADICADO = "PQR-2026-000001"


# -- what a request may carry --------------------------------------------------------------------
def _storable(value: str) -> str:
    """Text storage can keep: no NUL (PostgreSQL refuses it) and no unpaired surrogate (not UTF-8)."""
    if any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in value):
        raise ValueError("NUL characters and unpaired surrogates are not accepted")
    return value


def _one_line(value: str) -> str:
    """A name, a subject, a filter: no control characters at all (they would reach mail headers)."""
    if any(ord(c) < 32 or ord(c) == 127 or "\ud800" <= c <= "\udfff" for c in value):
        raise ValueError("control characters are not accepted")
    return value


Text = Annotated[str, AfterValidator(_storable)]
Line = Annotated[str, AfterValidator(_one_line)]
Instant = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class NewPqr(BaseModel):
    """`POST /api/v1/pqrs`: the fields of `pqrbot pqr new`."""

    model_config = ConfigDict(extra="forbid")

    type: PqrType
    channel: Line = Field("phone", min_length=1, max_length=CHANNEL_MAX)
    name: Line = Field(min_length=1, max_length=NAME_MAX)
    email: Line | None = Field(None, max_length=EMAIL_MAX)
    phone: Line | None = Field(None, max_length=PHONE_MAX)
    subject: Line = Field(max_length=SUBJECT_MAX)
    body: Text = ""
    area: Line | None = Field(None, min_length=1, max_length=AREA_MAX)
    received_at: AwareDatetime | None = Field(None, description="ISO 8601 with its offset; default: now")


class NewMessage(BaseModel):
    """`POST /api/v1/pqrs/{radicado}/messages`: an answer to the customer or an internal note."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["reply", "note"]
    body: Text


# -- what the API answers (the CLI's JSON) -------------------------------------------------------
class ApiError(BaseModel):
    error: str
    detail: str


class CustomerOut(BaseModel):
    name: str
    email: str | None
    telegram_chat_id: int | None


class AttachmentOut(BaseModel):
    id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str


class MessageOut(BaseModel):
    id: int | None
    direction: Direction
    channel: str
    body: str
    at: Instant
    author: str | None
    attachments: list[AttachmentOut]


class EventOut(BaseModel):
    kind: str
    actor: str
    at: Instant
    from_: str | None = Field(alias="from")
    to: str | None
    reason: str | None
    data: dict[str, Any] = Field(default_factory=dict, description="present only when the event has data")


class PqrOut(BaseModel):
    radicado: str
    type: PqrType
    status: Status
    channel: str
    customer: CustomerOut
    subject: str
    received_at: Instant
    due_at: Instant
    due_rule: str
    legal_due_at: Instant
    contract: str | None
    first_response_due_at: Instant | None
    assignee: str | None
    area: str | None
    cause: str | None
    extended: bool
    messages: list[MessageOut]
    events: list[EventOut]
    sla: SlaState


class PqrPageOut(BaseModel):
    items: list[PqrOut]
    page: int
    per_page: int
    total: int


class EvidenceFileOut(BaseModel):
    filename: str
    content_type: str
    size: int
    sha256: str


class EvidenceOut(BaseModel):
    text: str
    author: str
    at: Instant
    files: list[EvidenceFileOut]


class PenaltyOut(BaseModel):
    id: int | None
    client: str
    category: PenaltyCategory
    amount: str = Field(description="a decimal string, exactly as registered")
    currency: str
    status: PenaltyStatus
    area: str
    pqr: str | None
    contract: str | None
    description: str | None
    registered_at: Instant
    decision: PenaltyStatus | None
    decided_by: str | None
    decision_reason: str | None
    evidence: list[EvidenceOut]
    events: list[EventOut]


class SpreadOut(BaseModel):
    median: float | None
    p90: float | None


class BacklogOut(BaseModel):
    days_0_5: int = Field(alias="0-5")
    days_6_10: int = Field(alias="6-10")
    days_11_15: int = Field(alias="11-15")
    days_over_15: int = Field(alias=">15")


class GroupOut(BaseModel):
    filed: int
    answered: int
    on_time_pct: float | None


class KpisOut(BaseModel):
    """The `pqrbot report kpis --json` document."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    filed: int
    answered: int
    on_time_pct: float | None
    ans_compliance_pct: float | None
    first_response_hours: SpreadOut
    resolution_business_days: SpreadOut
    open_at_end: int
    breached_open: int
    backlog_age: BacklogOut
    extensions: int
    reopened: int
    by_type: dict[str, GroupOut]
    by_channel: dict[str, GroupOut]
    by_area: dict[str, GroupOut]
    by_cause: dict[str, GroupOut]
    by_client: dict[str, GroupOut]


def document(content: Any, status: int = 200) -> Response:
    """A PQR document as the answer, serialized once. `bot.cli.serialize` builds exactly the shape
    the response models describe (the tests compare both), so the models document the operations
    and FastAPI does not validate each answer against them again."""
    return JSONResponse(content, status_code=status)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The refusals an operation documents (all `{"error", "detail"}`): 401 and 422 always."""
    return {s: {"model": ApiError} for s in sorted({401, 422, *statuses})}


# -- who calls -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """The live token a request came with."""

    name: str
    role: str

    @property
    def actor(self) -> str:
        """The identity its actions are audited with."""
        return f"api:{self.name}"


bearer = HTTPBearer(auto_error=False, description="a token from `pqrbot token create`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
Radicado = Annotated[Line, Path(max_length=RADICADO_MAX, examples=[EXAMPLE_RADICADO])]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=IDEMPOTENCY_KEY_MAX, pattern=r"^[\x21-\x7e]+$",
    description="Any printable ASCII up to 255 characters. The same key with the same token within 24 hours "
                "answers with the PQR the first request filed (`Idempotent-Replayed: true`), not a second one.")]


def routes(services: WebServices) -> APIRouter:
    """The routes of /api/v1."""
    router = APIRouter(prefix="/api/v1", tags=["api"])
    cal, warn = services.pqrs.calendar, services.pqrs.warn_before_days

    def lang(request: Request) -> str:
        return language(request, services.language)

    async def caller(request: Request, credentials: Credentials) -> Caller:
        found = await services.access.token(credentials.credentials, now=services.clock()) if credentials else None
        if found is None:
            raise HTTPException(401, t(lang(request), "api.unauthorized"), headers={"WWW-Authenticate": "Bearer"})
        return Caller(found.name, found.role)

    def role(needed: Role, action: str) -> Any:
        """A dependency: the caller, when its token's role is `needed` or above; else 403, audited."""
        allowed = {Role.STAFF: (Role.STAFF, Role.MANAGER), Role.MANAGER: (Role.MANAGER,)}[needed]

        async def check(request: Request, who: Annotated[Caller, Depends(caller)]) -> Caller:
            if who.role not in allowed:
                await services.pqrs.record_refusal(actor=who.actor, action=action, reason=f"not_{needed.value}",
                                                   now=services.clock())
                raise HTTPException(403, t(lang(request), "api.forbidden", name=who.name, role=who.role,
                                           needed=needed.value))
            return who
        return Depends(check)

    staff, manager = role(Role.STAFF, "api"), role(Role.MANAGER, "api.penalties")

    async def refused(request: Request, exc: DomainError, who: Caller, action: str,
                      radicado: str | None = None) -> HTTPException:
        """The answer to a domain refusal; a refused change is written to the audit trail."""
        status = 404 if isinstance(exc, NotFound) else 422 if isinstance(exc, InvalidInput) else 409
        if status == 409:
            reason = (f"invalid_transition:{exc.current}->{exc.wanted}" if isinstance(exc, InvalidTransition)
                      else type(exc).__name__)
            await services.pqrs.record_refusal(actor=who.actor, action=action, reason=reason,
                                               now=services.clock(), radicado=radicado)
        return HTTPException(status, refusal_text(exc, lang(request), causes=services.causes))

    def doc(pqr: Any) -> dict[str, Any]:
        return pqr_json(pqr, cal, now=services.clock(), warn_before_days=warn)

    @router.get("/pqrs", response_model=PqrPageOut, response_model_exclude_unset=True, responses=_errors(403),
                summary="PQRs (open ones unless `status` says otherwise), by due date")
    async def list_pqrs(
            who: Annotated[Caller, staff],
            status: Annotated[str | None, Query(pattern=STATUS_PATTERN, description="a state, or all")] = None,
            pqr_type: Annotated[PqrType | None, Query(alias="type")] = None,
            area: Annotated[Line | None, Query(min_length=1, max_length=AREA_MAX)] = None,
            client: Annotated[Line | None, Query(min_length=1, max_length=CLIENT_MAX)] = None,
            breached: Annotated[bool | None, Query(description="past due now (true) or not (false)")] = None,
            page: Annotated[int, Query(ge=1, le=INT32_MAX)] = 1,
            per_page: Annotated[int, Query(ge=1, le=PER_PAGE_MAX)] = 20) -> Response:
        statuses = None if status is None else () if status == "all" else (Status(status),)
        found = await pqr_page(services.pqrs, now=services.clock(), statuses=statuses, pqr_type=pqr_type,
                               area=area, client=client, breached=breached, page=page, per_page=per_page)
        return document({"items": [doc(p) for p in found.items], "page": page, "per_page": per_page,
                         "total": found.total})

    @router.post("/pqrs", status_code=201, response_model=PqrOut, response_model_exclude_unset=True,
                 responses=_errors(400, 403), summary="File a PQR (as `pqrbot pqr new`)")
    async def file_pqr(request: Request, who: Annotated[Caller, staff], new: NewPqr,
                       key: IdempotencyKey = None) -> Response:
        now = services.clock()
        try:
            req = FilingRequest(pqr_type=new.type, channel=new.channel, name=new.name, subject=new.subject,
                                body=new.body, received_at=new.received_at or now, actor=who.actor,
                                email=email_address(new.email) if new.email else None, phone=new.phone,
                                area=new.area, language=services.language)
            filed = await file_once(services.pqrs, req, caller=who.name, key=key, now=now)
        except DomainError as exc:
            raise await refused(request, exc, who, "api.file") from None
        response = document(doc(filed.pqr), 201)
        if filed.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    @router.get("/pqrs/{radicado}", response_model=PqrOut, response_model_exclude_unset=True,
                responses=_errors(403, 404), summary="One PQR with its messages and audit trail")
    async def show_pqr(request: Request, who: Annotated[Caller, staff], radicado: Radicado) -> Response:
        try:
            pqr = await services.pqrs.show(radicado.strip().upper())
        except DomainError as exc:
            raise await refused(request, exc, who, "api.show") from None
        return document(doc(pqr))

    @router.post("/pqrs/{radicado}/messages", status_code=201, response_model=PqrOut,
                 response_model_exclude_unset=True, responses=_errors(400, 403, 404, 409),
                 summary="Answer the customer (reply, sent on their channel) or add an internal note")
    async def add_message(request: Request, who: Annotated[Caller, staff], radicado: Radicado,
                          message: NewMessage) -> Response:
        rad, now = radicado.strip().upper(), services.clock()
        try:
            if message.kind == "reply":
                pqr, _ = await services.pqrs.reply(rad, message.body, actor=who.actor, now=now)
            else:
                pqr = await services.pqrs.note(rad, message.body, actor=who.actor, now=now)
        except DomainError as exc:
            raise await refused(request, exc, who, f"api.{message.kind}", rad) from None
        return document(doc(pqr), 201)

    @router.get("/kpis", response_model=KpisOut, responses=_errors(403),
                summary="The indicators of [from, to) (as `pqrbot report kpis --json`)")
    async def get_kpis(request: Request, who: Annotated[Caller, staff],
                       start: Annotated[dt.date, Query(alias="from", description="YYYY-MM-DD, included",
                                                       examples=["2026-11-01"])],
                       end: Annotated[dt.date, Query(alias="to", description="YYYY-MM-DD, not included",
                                                     examples=["2026-12-01"])],
                       client: Annotated[Line | None, Query(min_length=1, max_length=CLIENT_MAX)] = None,
                       ) -> dict[str, Any]:
        for day in (start, end):
            if not FIRST_DAY <= day <= LAST_DAY:
                raise HTTPException(422, t(lang(request), "kpis.bad_date", value=day.isoformat()))
        if end <= start:
            raise HTTPException(422, t(lang(request), "api.empty_range", start=start, end=end))
        return await kpis(services.reports.indicators, start, end, client=client)

    @router.get("/penalties", response_model=list[PenaltyOut], responses=_errors(403),
                summary="Every penalty, oldest first (managers only)")
    async def list_penalties(who: Annotated[Caller, manager],
                             status: PenaltyStatus | None = None) -> list[dict[str, Any]]:
        found = await services.penalties.list(status=status)
        return [penalty_json(p, services.penalties.calendar) for p in found]

    return router
