"""The one mapping from a domain refusal to the catalogue text that answers it.

Every chat (Slack, Telegram, the console), the CLI and the web answer a refused action with
`refusal_text`; callers escape the result for their own markup. What a refusal is about (a PQR, a
penalty) decides a few wordings: `about=AboutPenalty(id)` says "la penalidad #12 …" where a PQR would
say "PQR-2026-000001 …"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.i18n import t
from domain.attachments import AttachmentNotFound
from domain.errors import (CauseRefused, DomainError, ExtensionRefused, InvalidInput, InvalidTransition, NotAllowed,
                           NotFound)
from domain.penalty import AlreadyDecided
from domain.review import AwaitingApproval, NotInReview, StaleDraft


class Refusal(Exception):
    """A refusal of the command layer itself, answered with catalogue text `key` filled with `values`
    (an unknown filter, type or state; missing arguments)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class AboutPenalty:
    """The refusal is about penalty `id`."""

    id: int | str


@dataclass(frozen=True)
class AboutPqr:
    """The refusal is about a PQR (the default)."""


Subject = AboutPenalty | AboutPqr
PQR = AboutPqr()


def refusal_text(exc: DomainError | Refusal, lang: str, *, about: Subject = PQR,
                 instant: Callable[[dt.datetime], str] | None = None,
                 causes: Mapping[str, str] | None = None) -> str:
    """The answer to `exc` in `lang` (plain text, not escaped). `instant` formats a date limit
    (a prórroga's latest due date) the way the caller shows dates; `causes` gives the labels of
    the configured causes (config `causes`, key -> label) where a refusal lists them."""
    if isinstance(exc, Refusal):
        return t(lang, exc.key, **exc.values)
    if isinstance(exc, CauseRefused):
        accepted = cause_list(exc.allowed, causes)
        if exc.reason == "unknown":
            return t(lang, "cause.unknown", value=exc.value or "", causes=accepted)
        return t(lang, "cause.required", causes=accepted)
    if isinstance(exc, AlreadyDecided):
        ident = about.id if isinstance(about, AboutPenalty) else "?"
        return t(lang, "penalty.already_decided", id=ident, decision=t(lang, f"penalty.status.{exc.decision}"),
                 by=exc.by or "—")
    if isinstance(exc, NotInReview):
        if exc.last is not None and exc.status in ("cerrada", "en_tramite"):
            return t(lang, f"review.already_{'approved' if exc.last.decision == 'approved' else 'returned'}",
                     radicado=exc.radicado, by=exc.last.by)
        return t(lang, "review.not_in_review", radicado=exc.radicado, status=t(lang, f"status.{exc.status}"))
    if isinstance(exc, StaleDraft):
        return t(lang, "review.stale", radicado=exc.radicado)
    if isinstance(exc, AwaitingApproval):
        return t(lang, "review.awaiting", radicado=exc.radicado)
    if isinstance(exc, NotAllowed):
        if str(exc) == "review_not_manager":
            return t(lang, "review.not_manager")
        return t(lang, "penalty.not_manager" if str(exc) == "not_manager" else "not_staff")
    if isinstance(exc, InvalidTransition):
        if isinstance(about, AboutPenalty):
            return t(lang, "penalty.wrong_state", id=about.id, status=t(lang, f"penalty.status.{exc.current}"))
        return t(lang, "invalid_transition", current=exc.current, wanted=exc.wanted,
                 allowed=", ".join(exc.allowed) or t(lang, "no_transitions"))
    if isinstance(exc, AttachmentNotFound):
        return t(lang, "attachment.not_found", radicado=exc.radicado, id=exc.attachment_id)
    if isinstance(exc, NotFound):
        if isinstance(about, AboutPenalty):
            return t(lang, "penalty.not_found", what=t(lang, "penalty.what", id=about.id))
        return t(lang, "not_found", radicado=str(exc))
    if isinstance(exc, ExtensionRefused):
        return t(lang, f"ext.{exc.reason}", limit=_limit(exc.limit, instant))
    if isinstance(exc, InvalidInput):
        if exc.code:
            return t(lang, f"input.{exc.code}", value=exc.value if exc.value is not None else "")
        return t(lang, "invalid_input", detail=str(exc))
    return t(lang, "internal_error")


def cause_list(keys: tuple[str, ...], labels: Mapping[str, str] | None = None) -> str:
    """The accepted causes on one line, each key with its label: `facturacion (Facturación), …`."""
    labels = labels or {}
    return ", ".join(f"{k} ({labels[k]})" if labels.get(k, k) != k else k for k in keys)


def _limit(value: object, instant: Callable[[dt.datetime], str] | None) -> str:
    if isinstance(value, dt.datetime):
        return instant(value) if instant else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)
