"""The staff pages under /staff, signed in by a one-time link from `/pqr web`.

- `GET /login/{token}` uses up the link and sets the session cookie (HttpOnly, SameSite=Lax,
  Secure under https, for `web.session_hours`); `POST /logout` ends the session.
- Every staff request looks the session up again (the identity must still be staff: a removed
  identity is refused at once); without one, a page says how to sign in (403).
- Every form carries the session's CSRF token (`csrf`), compared in constant time; every change
  runs the chat command through the command layer (`CommandHandler.handle`), so the web gets the
  chat's refusals and the same audit trail with the staff identity, and its answer is shown as a
  flash message after a redirect (signed with the session's CSRF token, so a link cannot forge one).
- Attachments are always downloads (`Content-Disposition: attachment`, nosniff, and markup types
  served as application/octet-stream); charts are inline SVG drawn from the figures; no CDN.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.background import BackgroundTask

from bot.commands.grammar import GrammarError, parse
from bot.commands.handler import PAGE_SIZE
from bot.commands.refusals import Refusal
from bot.i18n import CATALOGUES, t
from bot.i18n.formats import (format_amount, format_file_size, format_local_datetime, format_number,
                              format_percentage)
from bot.pqrs.listing import listing
from bot.reports.charts import backlog_svg, by_type_svg, incidences_svg
from bot.reports.summary import kpi_lines
from bot.reports.workbook import key_label
from domain.errors import InvalidInput, NotFound
from domain.periods import Period
from domain.pqr import Pqr
from domain.pqr_types import Status
from channels.web.pages import error_page, language, render
from channels.web.services import WebServices

COOKIE = "pqrbot_session"
SIGN_IN = "/staff/sign-in"
ACTIONS = ("assign", "take", "reply", "note", "status", "cause", "due", "close", "approve", "return")
REPORT_KINDS = ("kpis", "client", "monthly")
FLASH_MAX = 2000
DASHBOARD_FRESH_S = 60.0       # how long this instance reuses the dashboard's figures and charts
INSTANTS_KEPT = 10_000         # instants remembered formatted (forgotten all at once beyond)
_RADICADO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_PAGE_WORD = re.compile(r"^(page|pagina|página):", re.IGNORECASE)
# Stored types a browser could run or render as a page: always served as bytes.
_MARKUP_TYPES = ("html", "xml", "svg", "javascript", "ecmascript", "xhtml")
_MARKUP_EXTENSIONS = (".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".xml", ".xsl", ".js", ".mjs")
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
NO_STORE = {"Cache-Control": "no-store"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Ctx:
    """One signed-in request: who, the session's CSRF token, the page language, the instant."""

    request: Request
    identity: str
    csrf: str
    lang: str
    now: dt.datetime
    form: dict[str, str] = field(default_factory=dict)

    def href(self, path: str, **query: str) -> str:
        """`path` with `query`, keeping an explicit `?lang=`."""
        asked = self.request.query_params.get("lang", "").lower()
        params = {**({"lang": asked} if asked in CATALOGUES else {}), **{k: v for k, v in query.items() if v}}
        return path + ("?" + urlencode(params) if params else "")


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One line of the queue, as shown (an object, not a dict: Jinja reads attributes first)."""

    radicado: str
    href: str
    type: str
    status: str
    customer: str
    subject: str
    due: str
    sla: str
    sla_label: str
    assignee: str


def routes(services: WebServices) -> APIRouter:
    """The sign-in, sign-out and staff routes."""
    pages = StaffPages(services)
    router = APIRouter(include_in_schema=False)   # pages, not the API: kept out of /api/openapi.json
    router.add_api_route("/login/{token}", pages.login, methods=["GET"], include_in_schema=False)
    router.add_api_route("/logout", pages.logout, methods=["POST"], include_in_schema=False)
    router.add_api_route(SIGN_IN, pages.sign_in_page, methods=["GET"], include_in_schema=False)
    router.add_api_route("/staff", pages.queue, methods=["GET"], include_in_schema=False)
    router.add_api_route("/staff/dashboard", pages.dashboard, methods=["GET"], include_in_schema=False)
    router.add_api_route("/staff/penalties", pages.penalties, methods=["GET"], include_in_schema=False)
    router.add_api_route("/staff/reports", pages.reports, methods=["GET"], include_in_schema=False)
    router.add_api_route("/staff/reports/{name}", pages.report_file, methods=["GET"], include_in_schema=False)
    router.add_api_route("/staff/pqr/{radicado}", pages.pqr, methods=["GET"], include_in_schema=False)
    router.add_api_route("/staff/pqr/{radicado}/attachments/{attachment_id}", pages.attachment, methods=["GET"],
                         include_in_schema=False)
    router.add_api_route("/staff/pqr/{radicado}/{action}", pages.act, methods=["POST"], include_in_schema=False)
    return router


class StaffPages:
    """The route handlers; each looks the session up first (`_ctx`)."""

    def __init__(self, services: WebServices) -> None:
        self.s = services
        self.calendar = services.pqrs.calendar
        # (month, language) -> (when, the page's figures formatted and its charts): the dashboard's
        # figures are a minute old at most, so reloads and several viewers cost one computation.
        self._dashboards: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        # (instant, language) -> the text shown: the queue shows the same due dates page after page.
        self._instants: dict[tuple[dt.datetime, str], str] = {}

    # -- sessions ----------------------------------------------------------------------------------
    def _lang(self, request: Request) -> str:
        return language(request, self.s.language)

    async def _ctx(self, request: Request, *, post: bool = False) -> Ctx | Response:
        """The signed-in context, or the answer for a request without one: the sign-in page
        (a redirect for a page, 403 for a form) or 403 for a wrong CSRF token."""
        lang, now = self._lang(request), self.s.clock()
        session = await self.s.access.session(request.cookies.get(COOKIE), now=now)
        if session is None or not self.s.roles.is_staff(session.identity):
            if post:
                return self._refused(lang, t(lang, "web.staff.sign_in_needed"))
            return RedirectResponse(_keep_lang(request, SIGN_IN), status_code=303, headers=NO_STORE)
        ctx = Ctx(request=request, identity=session.identity, csrf=session.csrf, lang=lang, now=now)
        if post:
            form = await request.form()
            ctx.form = {k: v for k, v in form.items() if isinstance(v, str)}
            sent = ctx.form.get("csrf", "")
            if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
                return self._refused(lang, t(lang, "web.staff.csrf"))
        return ctx

    @staticmethod
    def _refused(lang: str, message: str) -> Response:
        response = error_page(lang, 403, message)
        response.headers.update(NO_STORE)
        return response

    def _page(self, ctx: Ctx, name: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        response = render(name, ctx.lang, status=status, ctx=ctx, csrf=ctx.csrf, identity=ctx.identity,
                          href=ctx.href, **values)
        response.headers.update(NO_STORE)
        return response

    def _fmt(self, instant: dt.datetime | None, lang: str) -> str:
        if instant is None:
            return "—"
        text = self._instants.get((instant, lang))
        if text is None:
            if len(self._instants) >= INSTANTS_KEPT:
                self._instants.clear()
            text = self._instants[(instant, lang)] = format_local_datetime(self.calendar.local(instant), lang)
        return text

    async def login(self, request: Request, token: str) -> Response:
        """Use up a sign-in link: the session cookie and on to the queue; a clear 403 otherwise."""
        lang = self._lang(request)
        signed = await self.s.access.sign_in(token, now=self.s.clock())
        if signed is None:
            return self._refused(lang, t(lang, "web.staff.link_invalid"))
        response = RedirectResponse(_keep_lang(request, "/staff"), status_code=303, headers=NO_STORE)
        response.set_cookie(COOKIE, signed.token, max_age=self.s.config.session_hours * 3600, path="/",
                            httponly=True, samesite="lax",
                            secure=self.s.config.public_url.lower().startswith("https://"))
        return response

    async def logout(self, request: Request) -> Response:
        ctx = await self._ctx(request, post=True)
        if not isinstance(ctx, Ctx):
            return ctx
        token = request.cookies.get(COOKIE)
        if token:
            await self.s.access.sign_out(token, now=ctx.now)
        response = render("staff/signed_out.html", ctx.lang)
        response.headers.update(NO_STORE)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax",
                               secure=self.s.config.public_url.lower().startswith("https://"))
        return response

    async def sign_in_page(self, request: Request) -> Response:
        lang = self._lang(request)
        return self._refused(lang, t(lang, "web.staff.sign_in_needed"))

    # -- the queue ---------------------------------------------------------------------------------
    async def queue(self, request: Request) -> Response:
        ctx = await self._ctx(request)
        if not isinstance(ctx, Ctx):
            return ctx
        q = " ".join(request.query_params.get("q", "").split())[:500]
        error, rows, total, page, title = None, [], 0, 1, ""
        try:
            flt, words = self.s.commands.list_filter(parse("list " + q).args, ctx.identity, ctx.now)
        except GrammarError:
            error = t(self.s.commands.lang, "unbalanced_quotes")
        except Refusal as exc:
            error = self.s.commands.refusal(exc)
        else:
            found = await listing(self.s.pqrs, flt)
            total = found.total
            page, title = flt.offset // PAGE_SIZE + 1, ", ".join(words)
            rows = [self._row(p, ctx) for p in found.items]
        base = " ".join(w for w in q.split() if not _PAGE_WORD.match(w))
        pages = max(1, -(-total // PAGE_SIZE))
        prev_href = ctx.href("/staff", q=f"{base} page:{page - 1}".strip()) if page > 1 else None
        next_href = ctx.href("/staff", q=f"{base} page:{page + 1}".strip()) if page < pages else None
        return self._page(ctx, "staff/queue.html", status=400 if error else 200, q=q, error=error, rows=rows,
                          total=total, page=page, pages=pages, title=title, prev_href=prev_href,
                          next_href=next_href)

    def _row(self, pqr: Pqr, ctx: Ctx) -> QueueRow:
        sla = pqr.sla_state(ctx.now, self.calendar, self.s.pqrs.warn_before_days)
        return QueueRow(radicado=pqr.radicado or "", href=ctx.href(f"/staff/pqr/{pqr.radicado}"),
                        type=t(ctx.lang, f"type.{pqr.type.value}"), status=t(ctx.lang, f"status.{pqr.status.value}"),
                        customer=pqr.customer.name, subject=pqr.subject, due=self._fmt(pqr.due_at, ctx.lang),
                        sla=sla.value, sla_label=t(ctx.lang, f"sla.{sla.value}"),
                        assignee=pqr.assignee or t(ctx.lang, "label.unassigned"))

    # -- one PQR -----------------------------------------------------------------------------------
    async def pqr(self, request: Request, radicado: str) -> Response:
        ctx = await self._ctx(request)
        if not isinstance(ctx, Ctx):
            return ctx
        rad = radicado.strip().upper()
        if not _RADICADO.fullmatch(rad):
            return self._not_found(ctx)
        try:
            pqr = await self.s.pqrs.show(rad)
        except NotFound:
            return self._not_found(ctx)
        lang = ctx.lang
        sla = pqr.sla_state(ctx.now, self.calendar, self.s.pqrs.warn_before_days)
        messages = [{
            "direction": m.direction.value, "label": t(lang, f"web.staff.direction.{m.direction.value}"),
            "author": m.author or "—", "channel": m.channel, "at": self._fmt(m.at, lang), "body": m.body,
            "attachments": [{"name": a.filename, "type": a.content_type, "size": format_file_size(a.size, lang),
                             "href": ctx.href(f"/staff/pqr/{rad}/attachments/{a.id}")} for a in m.attachments],
        } for m in pqr.messages]
        events = [{"at": self._fmt(e.at, lang), "actor": e.actor, "kind": e.kind,
                   "change": " → ".join(x for x in (e.from_, e.to) if x) or "", "reason": e.reason or ""}
                  for e in pqr.events]
        staff = sorted(self.s.roles.staff | self.s.roles.managers)
        flash = self._flash(ctx)
        draft = pqr.draft           # a final answer awaiting approval (config `approval`)
        return self._page(
            ctx, "staff/pqr.html", pqr=pqr, rad=rad, messages=messages, events=events, flash=flash,
            type_label=t(lang, f"type.{pqr.type.value}"), status_label=t(lang, f"status.{pqr.status.value}"),
            sla=sla.value, sla_label=t(lang, f"sla.{sla.value}"), due=self._fmt(pqr.due_at, lang),
            received=self._fmt(pqr.received_at, lang), assignee=pqr.assignee or t(lang, "label.unassigned"),
            cause_label=(self.s.causes.get(pqr.cause, pqr.cause) if pqr.cause else "—"), staff=staff,
            states=[(s.value, t(lang, f"status.{s.value}")) for s in Status if s is not Status.EN_REVISION],
            causes=sorted(self.s.causes.items(), key=lambda kv: kv[1].casefold()),
            templates=[(tpl.name, tpl.title(lang)) for tpl in self.s.templates.answers(pqr.type.value)]
            if self.s.templates is not None else [],
            draft=draft, draft_at=self._fmt(draft.at, lang) if draft else "",
            is_manager=self.s.roles.is_manager(ctx.identity),
            action=lambda name: ctx.href(f"/staff/pqr/{rad}/{name}"))

    def _not_found(self, ctx: Ctx) -> Response:
        response = error_page(ctx.lang, 404, t(ctx.lang, "web.staff.pqr_not_found"))
        response.headers.update(NO_STORE)
        return response

    async def act(self, request: Request, radicado: str, action: str) -> Response:
        """A form of the PQR page: the same chat command, its answer as the flash message."""
        ctx = await self._ctx(request, post=True)
        if not isinstance(ctx, Ctx):
            return ctx
        rad = radicado.strip().upper()
        if action not in ACTIONS or not _RADICADO.fullmatch(rad):
            return self._not_found(ctx)
        reply = await self.s.commands.handle(ctx.identity, command(action, rad, ctx.form), ctx.now)
        payload = _b64(json.dumps({"text": reply.text[:FLASH_MAX], "ok": reply.ok}))
        target = ctx.href(f"/staff/pqr/{rad}", flash=payload, sig=_sign(ctx.csrf, payload))
        return RedirectResponse(target, status_code=303, headers=NO_STORE)

    @staticmethod
    def _flash(ctx: Ctx) -> dict[str, Any] | None:
        """The answer of the last action, when its signature is this session's."""
        payload, sig = ctx.request.query_params.get("flash", ""), ctx.request.query_params.get("sig", "")
        if not payload or not hmac.compare_digest(sig.encode(), _sign(ctx.csrf, payload).encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload.encode()).decode())
        except (ValueError, binascii.Error):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return None
        return {"text": data["text"], "ok": bool(data.get("ok"))}

    async def attachment(self, request: Request, radicado: str, attachment_id: str) -> Response:
        """One stored file, always as a download (never rendered by the browser)."""
        ctx = await self._ctx(request)
        if not isinstance(ctx, Ctx):
            return ctx
        rad = radicado.strip().upper()
        if not _RADICADO.fullmatch(rad) or not attachment_id.isdigit() or len(attachment_id) > 19:
            return self._not_found(ctx)
        try:
            found, data = await self.s.pqrs.attachment(rad, int(attachment_id))
        except NotFound:
            return self._not_found(ctx)
        return Response(data, media_type=download_type(found.filename, found.content_type), headers={
            "Content-Disposition": content_disposition(found.filename), "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox", **NO_STORE})

    # -- the dashboard -----------------------------------------------------------------------------
    async def dashboard(self, request: Request) -> Response:
        ctx = await self._ctx(request)
        if not isinstance(ctx, Ctx):
            return ctx
        lang, ind = ctx.lang, self.s.reports.indicators
        today = self.calendar.local(ctx.now).date()
        month = Period.of("month", today)
        periods = [(t(lang, "web.staff.dash.this_month", period=month.label), month),
                   (t(lang, "web.staff.dash.last_month", period=month.previous().label), month.previous()),
                   (t(lang, "web.staff.dash.year", period=str(today.year)), Period.of("year", today))]
        key = (month.label, lang)
        cached = self._dashboards.get(key)
        if cached is not None and time.monotonic() - cached[0] < DASHBOARD_FRESH_S:
            values = cached[1]
        else:
            docs = [await ind.kpis(p.start, p.end) for _, p in periods]
            incidences = await ind.incidences(month.start, month.end)
            charts = list(await asyncio.gather(
                asyncio.to_thread(by_type_svg, docs[0]["by_type"], lang=lang),
                asyncio.to_thread(backlog_svg, docs[0]["backlog_age"], lang=lang),
                asyncio.to_thread(incidences_svg, incidences, lang=lang)))
            current = docs[0]
            nps = await self.s.reports.nps(month)      # the monthly report's NPS block, without its trend
            # The figures as the page shows them (formatting them costs more than the page itself).
            values = dict(
                columns=[label for label, _ in periods], figures=figure_rows(docs, lang),
                lines=[kpi_lines(d, lang) for d in docs], month_label=month.label,
                nps=None if nps is None else [
                    (t(lang, "survey.dash_nps"), _num(nps["nps"], lang)),
                    (t(lang, "survey.dash_responses"), f"{format_number(nps['responses'], lang)} / "
                                                       f"{format_number(nps['sent'], lang)}"),
                    (t(lang, "survey.dash_rate"), _pct(nps["response_rate_pct"], lang))],
                by_client=self._breakdown(current["by_client"], "client", lang),
                by_area=self._breakdown(current["by_area"], "area", lang),
                by_cause=self._breakdown(current["by_cause"], "cause", lang),
                backlog=[(band.replace("-", "–"), format_number(n, lang))
                         for band, n in current["backlog_age"].items()],
                charts=[Markup(inline_svg(svg)) for svg in charts])     # drawn here from numbers and labels
            self._dashboards[key] = (time.monotonic(), values)
        return self._page(ctx, "staff/dashboard.html", **values)

    def _breakdown(self, groups: Mapping[str, Mapping[str, Any]], dim: str, lang: str) -> list[dict[str, str]]:
        def name(key: str) -> str:
            if dim == "cause" and key in self.s.causes:
                return self.s.causes[key]
            return key_label(dim, key, lang)

        return [{"name": name(key), "filed": format_number(g["filed"], lang),
                 "answered": format_number(g["answered"], lang), "on_time": _pct(g["on_time_pct"], lang)}
                for key, g in groups.items()]

    # -- penalties ---------------------------------------------------------------------------------
    async def penalties(self, request: Request) -> Response:
        ctx = await self._ctx(request)
        if not isinstance(ctx, Ctx):
            return ctx
        lang = ctx.lang
        rows = [{"id": p.id, "client": p.client, "category": key_label("category", p.category.value, lang),
                 "amount": format_amount(p.amount, p.currency, lang), "area": p.area,
                 "status": t(lang, f"penalty.status.{p.status.value}"), "registered": self._fmt(p.registered_at, lang),
                 "pqr": p.pqr, "pqr_href": ctx.href(f"/staff/pqr/{p.pqr}") if p.pqr else None}
                for p in await self.s.penalties.list()]
        return self._page(ctx, "staff/penalties.html", rows=rows)

    # -- report files ------------------------------------------------------------------------------
    async def reports(self, request: Request) -> Response:
        ctx = await self._ctx(request)
        if not isinstance(ctx, Ctx):
            return ctx
        month = Period.of("month", self.calendar.local(ctx.now).date())
        clients = [c.name for c in await self.s.reports.clients()]
        return self._page(ctx, "staff/reports.html", start=month.start.isoformat(), end=month.end.isoformat(),
                          period=month.label, month=month.previous().label, clients=clients)

    async def report_file(self, request: Request, name: str) -> Response:
        """`/staff/reports/{kpis|client|monthly}.{xlsx|pdf}?…`: the file, as a download."""
        ctx = await self._ctx(request)
        if not isinstance(ctx, Ctx):
            return ctx
        kind, _, fmt = name.partition(".")
        if kind not in REPORT_KINDS or fmt not in ("xlsx", "pdf"):
            return self._not_found(ctx)
        q, lang, reports = request.query_params, ctx.lang, self.s.reports
        client: str | None = None
        if kind == "kpis":
            start, end = _day(q.get("from", "")), _day(q.get("to", ""))
            if start is None or end is None:
                bad = q.get("from", "") if start is None else q.get("to", "")
                return self._bad(ctx, t(lang, "kpis.bad_date", value=bad[:40]))
            if end <= start:
                return self._bad(ctx, t(lang, "kpis.empty_range", start=start, end=end))
            doc = await reports.indicators.kpis(start, end)
            stem = f"kpis-{start}-{end}"
        elif kind == "client":
            period = _period(q.get("period", ""))
            if period is None:
                return self._bad(ctx, t(lang, "kpis.bad_period", value=q.get("period", "")[:40]))
            try:
                doc = await reports.client(q.get("client", ""), period)
            except NotFound:
                known = ", ".join(c.name for c in await reports.clients()) or "—"
                return self._bad(ctx, t(lang, "kpis.unknown_client", client=q.get("client", "")[:100], known=known))
            start, end, client = period.start, period.end, str(doc["client"])
            stem = f"client-{_slug(client)}-{period.label}"
        else:
            period = _period(q.get("month", ""))
            if period is None or period.kind != "month":
                return self._bad(ctx, t(lang, "penalty.bad_month", month=q.get("month", "")[:40]))
            doc = await reports.monthly(period)
            start, end = period.start, period.end
            stem = f"monthly-{period.label}"
        tz = reports.calendar.tz
        if fmt == "pdf":
            from bot.reports.document import render_pdf     # WeasyPrint: loaded when a PDF is asked for
            pdf = await asyncio.to_thread(lambda: render_pdf(kind, doc, lang=lang, tz=tz, generated_at=ctx.now))
            return Response(pdf, media_type="application/pdf",
                            headers={"Content-Disposition": content_disposition(f"{stem}.pdf"), **NO_STORE})
        from bot.reports.workbook import write_workbook
        folder = Path(tempfile.mkdtemp(prefix="pqrbot-web-report-"))
        try:
            path = folder / f"{stem}.xlsx"
            detail = reports.indicators.detail(start, end)
            await write_workbook(kind, doc, path, lang=lang, tz=tz,
                                 detail=_of_client(detail, client) if client is not None else detail)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return FileResponse(path, media_type=XLSX, headers={"Content-Disposition": content_disposition(path.name),
                                                            **NO_STORE},
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

    def _bad(self, ctx: Ctx, message: str) -> Response:
        response = error_page(ctx.lang, 400, message)
        response.headers.update(NO_STORE)
        return response


# -- what the handlers share ----------------------------------------------------------------------

def command(action: str, rad: str, form: Mapping[str, str]) -> str:
    """The chat command a PQR page form stands for (its fields as typed: the command layer
    answers a missing or wrong one as it does in the chat)."""
    def line(name: str) -> str:
        return " ".join(form.get(name, "").split())

    def text(name: str) -> str:
        return form.get(name, "").replace("\r\n", "\n").replace("\r", "\n").strip()

    if action == "assign":
        return f"assign {rad} {line('who')}"
    if action == "take":
        return f"take {rad}"
    if action in ("approve", "return"):       # the draft the page showed: a later one is refused as stale
        draft = line("draft")
        target = f"{rad}:{draft}" if draft.isdigit() else rad
        return f"approve {target}" if action == "approve" else f"return {target} -- {line('comment')}"
    if action in ("reply", "close") and line("template"):     # the server fills the chosen template
        return f"{action} {rad} @{line('template')} {text('text')}".rstrip()
    if action in ("reply", "note", "close"):
        return f"{action} {rad} {text('text')}"
    if action == "status":
        reason = line("reason")
        return f"status {rad} {line('state')}" + (f" -- {reason}" if reason else "")
    if action == "cause":
        cause, area = line("cause"), line("area")
        cause = f'"{cause}"' if " " in cause and '"' not in cause else cause
        return f"cause {rad} {cause}" + (f" --area {area}" if area else "")
    reason = line("reason")
    return f"due {rad} {line('when')}" + (f" -- {reason}" if reason else "")


def figure_rows(docs: list[dict[str, Any]], lang: str) -> list[tuple[str, list[str]]]:
    """The dashboard's figures: one row per indicator, one column per period's `report kpis`."""
    def row(key: str, value: Any) -> tuple[str, list[str]]:
        return t(lang, f"report.file.fig.{key}"), [value(d) for d in docs]

    return [
        row("filed", lambda d: format_number(d["filed"], lang)),
        row("answered", lambda d: format_number(d["answered"], lang)),
        row("on_time_pct", lambda d: _pct(d["on_time_pct"], lang)),
        row("ans_compliance_pct", lambda d: _pct(d["ans_compliance_pct"], lang)),
        row("first_response_median", lambda d: _num(d["first_response_hours"]["median"], lang)),
        row("first_response_p90", lambda d: _num(d["first_response_hours"]["p90"], lang)),
        row("resolution_median", lambda d: _num(d["resolution_business_days"]["median"], lang)),
        row("resolution_p90", lambda d: _num(d["resolution_business_days"]["p90"], lang)),
        row("open_at_end", lambda d: format_number(d["open_at_end"], lang)),
        row("breached_open", lambda d: format_number(d["breached_open"], lang)),
        row("extensions", lambda d: format_number(d["extensions"], lang)),
        row("reopened", lambda d: format_number(d["reopened"], lang)),
    ]


def _pct(value: float | None, lang: str) -> str:
    return "—" if value is None else format_percentage(value, lang)


def _num(value: float | None, lang: str) -> str:
    return "—" if value is None else format_number(value, lang, places=1)


def inline_svg(svg: str) -> str:
    """matplotlib's SVG document as an element to put in a page (no XML prolog or doctype)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else ""


def download_type(filename: str, content_type: str) -> str:
    """The Content-Type to serve a stored file with: its own, unless a browser could render or run it
    (html, svg, xml, scripts) or it is not a plain `type/subtype`."""
    kind = content_type.split(";")[0].strip().lower()
    if (not _CONTENT_TYPE.fullmatch(kind) or any(m in kind for m in _MARKUP_TYPES)
            or filename.lower().endswith(_MARKUP_EXTENSIONS) or kind.startswith("multipart/")):
        return "application/octet-stream"
    return kind


def content_disposition(filename: str) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''encoded` (no quotes, slashes or line breaks
    survive into the header)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = re.sub(r'[^A-Za-z0-9._ -]', "_", ascii_name).strip() or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _sign(key: str, payload: str) -> str:
    return hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def _keep_lang(request: Request, path: str) -> str:
    asked = request.query_params.get("lang", "").lower()
    return f"{path}?lang={asked}" if asked in CATALOGUES else path


def _day(text: str) -> dt.date | None:
    try:
        value = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if 1970 <= value.year <= 2999 else None


def _period(text: str) -> Period | None:
    try:
        return Period.parse(text)
    except InvalidInput:
        return None


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80] or "client"


async def _of_client(rows: AsyncIterator[tuple[Any, ...]], client: str) -> AsyncIterator[tuple[Any, ...]]:
    """The detail rows of one client (the 5th column), as the client report's slice counts them."""
    wanted = client.casefold()
    async for row in rows:
        if isinstance(row[4], str) and row[4].casefold() == wanted:
            yield row

