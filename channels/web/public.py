"""The web's public pages: the filing form and tracking. Plain HTML forms (no JavaScript), in the
reader's language, every refusal a clear page that says what was wrong and what is accepted.

- `GET /` — the form: type, name, email, phone and identity document (optional), subject,
  description, files (up to `web.form.max_files`, each up to `web.form.max_file_bytes`, of the
  types in `bot.pqrs.web_filing.ACCEPTED`) and the habeas-data consent (linking
  `web.privacy_policy_url` when set).
- `POST /` — files it (channel `web`) and shows the radicado and the due date; the customer gets
  the acknowledgment by email. Each form carries a one-time token, `nonce.issued.signature`,
  signed with HMAC-SHA256: the nonce is the filing's idempotency key (a form posted twice files
  once and shows the same radicado) and the signature proves this site issued the form (a post
  without a token, with a forged one or one older than a day is refused; the form is shown again
  with what was typed). The key is `PQRBOT_WEB_SECRET`; when unset each process draws a random
  one, so several instances behind a balancer need the variable set to the same value. A
  honeypot field (`website`, hidden from people) filled in answers as if received and files
  nothing; more than `web.form.rate_limit.per_ip_per_hour` posts from one client address in an
  hour get 429.
- `GET /consulta` — tracking: the form; `POST /consulta` with `radicado` and `email` answers (the
  form posts, so the email stays out of addresses, history and logs; a GET with both as query
  parameters answers too). The status, filing date, due date and the public conversation (never
  internal notes); a wrong radicado and a wrong email get the same "not found". Lookups count
  against the same hourly limit per client address, separately from filings."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from bot.commands.refusals import refusal_text
from bot.i18n import CATALOGUES, t, tn
from bot.i18n.formats import format_file_size
from bot.pqrs.web_filing import (ACCEPTED, ACCEPTED_LIST, PublicView, WebFiled, WebFilingService, WebSubmission,
                                 check_files, file_problem_line, typed)
from bot.surveys.service import SurveyView
from channels.web.pages import client_ip, error_page, language, render
from channels.web.services import WebServices
from domain.surveys import SurveyError
from domain.customer import is_email_address
from domain.errors import InvalidInput
from domain.files import FileData
from domain.limits import EMAIL_MAX, NAME_MAX, PHONE_MAX, RADICADO_MAX, SUBJECT_MAX
from domain.pqr_types import PqrType

SECRET_ENV = "PQRBOT_WEB_SECRET"
TOKEN_VALID = dt.timedelta(hours=24)
TOKEN_SKEW = dt.timedelta(minutes=5)       # a token "from the future" by less than this is another clock's
HOUR = dt.timedelta(hours=1)
HONEYPOT = "website"
BODY_MAX = 20_000
DOCUMENT_MAX = 40
MAX_PARTS = 200                              # form fields and file parts Starlette will parse at all
FORM_FIELDS = ("type", "name", "email", "phone", "document", "subject", "body", "files", "consent", "nonce")
TRACK_FIELDS = ("radicado", "email")
ACCEPT_ATTR = ",".join(f".{e}" for e in ACCEPTED)


def form_secret(configured: str | None) -> bytes:
    """The key that signs form tokens: `PQRBOT_WEB_SECRET` (read by bootstrap), else a random key
    of this process."""
    value = (configured or "").strip()
    return value.encode("utf-8") if value else secrets.token_bytes(32)


class FormTokens:
    """One-time form tokens: a random nonce, when it was issued, and an HMAC over both."""

    def __init__(self, secret: bytes, *, valid: dt.timedelta = TOKEN_VALID) -> None:
        self._secret = secret
        self.valid = valid

    def issue(self, now: dt.datetime) -> str:
        nonce = secrets.token_urlsafe(18)
        issued = str(int(now.timestamp()))
        return f"{nonce}.{issued}.{self._sign(nonce, issued)}"

    def nonce(self, token: str, now: dt.datetime) -> str | None:
        """The token's nonce when this site issued it within `valid` of `now`; else None."""
        parts = token.strip().split(".")
        if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or len(parts[1]) > 12:
            return None
        nonce, issued, signature = parts
        if not hmac.compare_digest(signature.encode("utf-8", "replace"), self._sign(nonce, issued).encode()):
            return None
        age = now.timestamp() - int(issued)
        if not -TOKEN_SKEW.total_seconds() <= age <= self.valid.total_seconds():
            return None
        return nonce

    def _sign(self, nonce: str, issued: str) -> str:
        mac = hmac.new(self._secret, f"{nonce}.{issued}".encode("utf-8", "replace"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _line(value: str) -> str:
    """A one-line field: printable characters, runs of white space as one space."""
    return " ".join("".join(c for c in value if c.isprintable() or c.isspace()).split())


def _text(value: str) -> str:
    """A multi-line field: line breaks as `\\n`, no other control characters, trimmed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in value if c.isprintable() or c in "\n\t").strip()


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _safe_url(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://", "/")) else None


def routes(services: WebServices) -> APIRouter:
    """`GET|POST /` (the filing form) and `GET|POST /consulta` (tracking)."""
    router = APIRouter(include_in_schema=False)   # pages, not the API: kept out of /api/openapi.json
    cfg = services.config
    filing = WebFilingService(services.pqrs)
    tokens = FormTokens(form_secret(services.form_secret))
    types = tuple(PqrType)

    def instant(when: dt.datetime, lang: str) -> str:
        return services.pqrs.notifier.format_instant(when, lang)

    def form_page(lang: str, *, values: Mapping[str, Any] | None = None,
                  errors: Mapping[str, list[str]] | None = None, status: int = 200,
                  notice: str | None = None) -> HTMLResponse:
        return render("public/form.html", lang, status=status, here="/", values=values or {},
                      errors=errors or {}, order=FORM_FIELDS, notice=notice, token=tokens.issue(services.clock()),
                      types=[(x.value, t(lang, f"type.{x.value}")) for x in types],
                      max_files=cfg.form.max_files, accept=ACCEPT_ATTR,
                      files_hint=tn(lang, "web.public.files_hint", cfg.form.max_files,
                                    size=format_file_size(cfg.form.max_file_bytes, lang), types=ACCEPTED_LIST),
                      privacy_url=_safe_url(cfg.privacy_policy_url))

    def limited(lang: str, key: str) -> HTMLResponse:
        page = error_page(lang, 429, t(lang, key))
        page.headers["Retry-After"] = str(int(HOUR.total_seconds()))
        return page

    async def read_form(request: Request) -> FormData | None:
        try:
            return await request.form(max_files=MAX_PARTS, max_fields=MAX_PARTS)
        except HTTPException:             # a malformed or oversized part (Starlette's 400)
            return None

    @router.get("/", response_class=HTMLResponse)
    async def show_form(request: Request) -> Response:
        lang = language(request, services.language)
        if not cfg.form.enabled:
            return error_page(lang, 404, t(lang, "web.public.disabled"))
        return form_page(lang)

    @router.post("/", response_class=HTMLResponse)
    async def submit(request: Request) -> Response:
        lang = language(request, services.language)
        if not cfg.form.enabled:
            return error_page(lang, 404, t(lang, "web.public.disabled"))
        now = services.clock()
        ip = client_ip(request, cfg.trusted_proxies)
        if not await services.access.allow(f"form:{ip}", limit=cfg.form.rate_limit.per_ip_per_hour,
                                           window=HOUR, now=now):
            return limited(lang, "web.public.rate_limited")
        form = await read_form(request)
        if form is None:
            return error_page(lang, 400, t(lang, "web.public.unreadable"))
        try:
            return await file_form(lang, form, now)
        finally:
            await form.close()

    async def file_form(lang: str, form: FormData, now: dt.datetime) -> Response:
        values = {k: _field(form, k) for k in FORM_FIELDS if k != "files"}
        nonce = tokens.nonce(values["nonce"], now)
        if nonce is None:
            return form_page(lang, values=values, status=400, notice=t(lang, "web.public.expired"))
        uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile) and (u.filename or u.size)]
        files = [typed(u.filename or "", await u.read()) for u in uploads]
        sub, errors = _check(lang, values, files, nonce=nonce, now=now, max_files=cfg.form.max_files,
                             max_file_bytes=cfg.form.max_file_bytes)
        if sub is None:
            return form_page(lang, values=values, errors=errors, status=422)
        if _field(form, HONEYPOT).strip():
            await filing.keep_aside(sub, reason="honeypot")
            return done_page(lang, WebFiled(None, duplicate=False), email=sub.email)
        try:
            filed = await filing.file(sub)
        except InvalidInput as exc:
            return form_page(lang, values=values, status=422, notice=refusal_text(exc, lang))
        return done_page(lang, filed, email=sub.email)

    def done_page(lang: str, filed: WebFiled, *, email: str) -> HTMLResponse:
        pqr = filed.pqr
        return render("public/done.html", lang, here="/", pqr=pqr, duplicate=filed.duplicate, email=email,
                      filenames=filed.filenames, type_label=t(lang, f"type.{pqr.type.value}") if pqr else "",
                      received=instant(pqr.received_at, lang) if pqr else "",
                      due=instant(pqr.due_at, lang) if pqr else "")

    # -- tracking ----------------------------------------------------------------------------------
    def track_page(lang: str, *, values: Mapping[str, str] | None = None,
                   errors: Mapping[str, list[str]] | None = None, view: PublicView | None = None,
                   notice: str | None = None, status: int = 200) -> HTMLResponse:
        return render("public/track.html", lang, status=status, here="/consulta", values=values or {},
                      errors=errors or {}, order=TRACK_FIELDS, notice=notice, view=view,
                      status_label=_status_label(lang, view.status) if view else "",
                      type_label=t(lang, f"type.{view.type.value}") if view else "",
                      instant=lambda when: instant(when, lang))

    async def lookup(request: Request, lang: str, radicado: str, email: str) -> Response:
        values = {"radicado": _line(radicado), "email": _line(email)}
        errors: dict[str, list[str]] = {}
        for name in TRACK_FIELDS:
            if not values[name]:
                errors[name] = [t(lang, "web.public.required", field=t(lang, f"web.track.field.{name}"))]
        if values["radicado"] and len(values["radicado"]) > RADICADO_MAX:
            errors["radicado"] = [t(lang, "web.public.too_long", field=t(lang, "web.track.field.radicado"),
                                    max=RADICADO_MAX, count=len(values["radicado"]))]
        if values["email"] and not is_email_address(values["email"]):
            errors["email"] = [t(lang, "web.public.bad_email", field=t(lang, "web.track.field.email"),
                                 value=values["email"][:100])]
        if errors:
            return track_page(lang, values=values, errors=errors, status=422)
        ip = client_ip(request, cfg.trusted_proxies)
        if not await services.access.allow(f"track:{ip}", limit=cfg.form.rate_limit.per_ip_per_hour,
                                           window=HOUR, now=services.clock()):
            return limited(lang, "web.track.rate_limited")
        view = await filing.track(values["radicado"], values["email"])
        if view is None:
            return track_page(lang, values=values, status=404, notice=t(lang, "web.track.not_found"))
        return track_page(lang, values=values, view=view)

    @router.get("/consulta", response_class=HTMLResponse)
    async def track_form(request: Request) -> Response:
        lang = language(request, services.language)
        query = request.query_params
        if "radicado" in query or "email" in query:
            return await lookup(request, lang, query.get("radicado", ""), query.get("email", ""))
        return track_page(lang)

    @router.post("/consulta", response_class=HTMLResponse)
    async def track(request: Request) -> Response:
        lang = language(request, services.language)
        form = await read_form(request)
        if form is None:
            return error_page(lang, 400, t(lang, "web.public.unreadable"))
        try:
            return await lookup(request, lang, _field(form, "radicado"), _field(form, "email"))
        finally:
            await form.close()

    # -- the survey page: only its POST records (a scanner following the mailed link records nothing)
    def survey_page(request: Request, token: str, view: SurveyView | None, *, status: int = 200,
                    **values: Any) -> HTMLResponse:
        asked = request.query_params.get("lang", "").lower()
        lang = asked if asked in CATALOGUES else (view.language if view else services.language)
        if view is not None and view.state and not values.get("done") and not values.get("optout"):
            values.setdefault("notice", t(lang, f"survey.{view.state}"))
            status = 410
        values.setdefault("action", f"/encuesta/{token}")
        return render("public/survey.html", lang, status=status, here="/encuesta", view=view,
                      token=tokens.issue(services.clock()), **values)

    async def survey_of(request: Request, token: str) -> SurveyView | Response:
        view = await services.surveys.view(token, services.clock()) if services.surveys else None
        if view is None:
            lang = language(request, services.language)
            return error_page(lang, 404, t(lang, "survey.not_found"))
        return view

    @router.get("/encuesta/{token}", response_class=HTMLResponse)
    async def survey(request: Request, token: str) -> Response:
        view = await survey_of(request, token)
        return view if isinstance(view, Response) else survey_page(request, token, view)

    async def survey_form(request: Request, token: str) -> tuple[SurveyView, FormData] | Response:
        """The survey a form was posted for, and the form; or the page that refuses it."""
        view = await survey_of(request, token)
        if isinstance(view, Response) or services.surveys is None:
            return view if isinstance(view, Response) else error_page(services.language, 404, "")
        form = await read_form(request)
        if form is None:
            return error_page(view.language, 400, t(view.language, "web.public.unreadable"))
        return view, form

    @router.post("/encuesta/{token}", response_class=HTMLResponse)
    async def answer_survey(request: Request, token: str) -> Response:
        posted = await survey_form(request, token)
        if isinstance(posted, Response):
            return posted
        view, form = posted
        assert services.surveys is not None
        now = services.clock()
        try:
            if tokens.nonce(_field(form, "nonce"), now) is None:       # CSRF: a form this site issued
                return survey_page(request, token, view, status=400, notice=t(view.language, "survey.form_expired"))
            score = _field(form, "score").strip()
            if not score.isdigit() or len(score) > 2:
                return survey_page(request, token, view, status=422, notice=t(view.language, "survey.bad_score"))
            try:
                done = await services.surveys.submit(token, int(score), _field(form, "comment"), now)
            except SurveyError as exc:
                status = {"not_found": 404, "bad_score": 422}.get(exc.code, 410)
                view = await services.surveys.view(token, now) or view
                return survey_page(request, token, view, status=status, notice=t(view.language, f"survey.{exc.code}"))
            return survey_page(request, token, done, done=True)
        finally:
            await form.close()

    @router.get("/encuesta/{token}/baja", response_class=HTMLResponse)
    async def optout_form(request: Request, token: str) -> Response:
        view = await survey_of(request, token)
        return view if isinstance(view, Response) else survey_page(request, token, view, optout=True,
                                                                    action=f"/encuesta/{token}/baja")

    @router.post("/encuesta/{token}/baja", response_class=HTMLResponse)
    async def optout(request: Request, token: str) -> Response:
        posted = await survey_form(request, token)
        if isinstance(posted, Response):
            return posted
        view, form = posted
        assert services.surveys is not None
        try:
            now = services.clock()
            if tokens.nonce(_field(form, "nonce"), now) is None:
                return survey_page(request, token, view, status=400, optout=True, action=f"/encuesta/{token}/baja",
                                   notice=t(view.language, "survey.form_expired"))
            await services.surveys.opt_out_token(token, now)
            return survey_page(request, token, view, optout=True, optout_done=True)
        finally:
            await form.close()

    return router


def _status_label(lang: str, status: str) -> str:
    """The catalogue's label of a status (`status.<value>`), else the value itself."""
    key = f"status.{status}"
    return t(lang, key) if key in CATALOGUES["es"] else status


def _check(lang: str, values: Mapping[str, str], files: list[FileData], *, nonce: str, now: dt.datetime,
           max_files: int, max_file_bytes: int) -> tuple[WebSubmission | None, dict[str, list[str]]]:
    """The submission when every field is valid; else None and, per field, what is wrong."""
    def label(name: str) -> str:
        return t(lang, f"web.public.field.{name}")

    errors: dict[str, list[str]] = {}
    line = {k: _line(values.get(k, "")) for k in ("type", "name", "email", "phone", "document", "subject")}
    body = _text(values.get("body", ""))
    for name in ("type", "name", "email", "subject"):
        if not line[name]:
            errors[name] = [t(lang, "web.public.required", field=label(name))]
    if not body:
        errors["body"] = [t(lang, "web.public.required", field=label("body"))]
    pqr_type = next((x for x in PqrType if x.value == line["type"]), None)
    if line["type"] and pqr_type is None:
        errors["type"] = [t(lang, "web.public.bad_type", field=label("type"))]
    if line["email"] and not is_email_address(line["email"]):
        errors["email"] = [t(lang, "web.public.bad_email", field=label("email"), value=line["email"][:100])]
    for name, limit in (("name", NAME_MAX), ("email", EMAIL_MAX), ("phone", PHONE_MAX),
                        ("document", DOCUMENT_MAX), ("subject", SUBJECT_MAX)):
        if len(line[name]) > limit and name not in errors:
            errors[name] = [t(lang, "web.public.too_long", field=label(name), max=limit, count=len(line[name]))]
    if len(body) > BODY_MAX:
        errors["body"] = [t(lang, "web.public.too_long", field=label("body"), max=BODY_MAX, count=len(body))]
    problems = check_files(files, max_files=max_files, max_file_bytes=max_file_bytes)
    if problems:
        errors["files"] = [t(lang, "web.public.files_refused")] + [file_problem_line(lang, p) for p in problems]
    if not values.get("consent"):
        errors["consent"] = [t(lang, "web.public.consent_required")]
    if errors or pqr_type is None:
        return None, errors
    return WebSubmission(pqr_type=pqr_type, name=line["name"], email=line["email"], subject=line["subject"],
                         body=body, language=lang, nonce=nonce, received_at=now, phone=line["phone"] or None,
                         document=line["document"] or None, files=tuple(files)), errors
