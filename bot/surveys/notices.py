"""The outbox rows of the surveys: the question to a customer or contact (email with the link to
`/encuesta/{token}`, Telegram with buttons), and the staff alerts of a low CSAT or an NPS
detractor (with the button that reopens the PQR or files one from the answer)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n import t
from bot.ports.payloads import DecisionAction, SurveyAlert, SurveyCsat, SurveyNps
from domain.contracts import ContractRegistry
from domain.surveys import SCALES, SurveyKind
from storage.ports import OutboxItem, SurveyRecord

REOPEN, FOLLOWUP = "survey_reopen", "survey_followup"


def new_token() -> tuple[str, str]:
    """A fresh survey link token and its sha256 (only the hash is stored with the survey)."""
    token = secrets.token_urlsafe(24)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class SurveyNotices:
    """`public_url` is the web's (`web.public_url`); `managers` and `staff` (identity →
    destinations on the enabled channels) are where alerts go; `areas` an area's destinations."""

    public_url: str
    language: str
    managers: tuple[str, ...]
    staff: Callable[[str | None], list[tuple[str, str]]]
    enabled: frozenset[str]
    company: str | None = None

    def link(self, token: str, suffix: str = "") -> str:
        return f"{self.public_url.rstrip('/')}/encuesta/{token}{suffix}"

    def request(self, survey: SurveyRecord, token: str | None, *, question: str, subject: str,
                radicado: str | None = None) -> OutboxItem:
        """The question to the customer; `token` (email) gives the page and opt-out links."""
        assert survey.id is not None
        low, high = SCALES[SurveyKind(survey.kind)]
        urls = {"url": self.link(token), "optout_url": self.link(token, "/baja")} if token else {}
        common = dict(survey_id=survey.id, language=survey.language, subject=subject, text=question,
                      low=low, high=high, **urls)
        payload = (SurveyCsat(radicado=radicado, **common) if survey.kind == "csat"
                   else SurveyNps(campaign=survey.campaign, client=survey.client, **common))
        return OutboxItem(channel=survey.channel, destination=survey.destination, payload=payload.stored(),
                          dedupe_key=f"survey:{survey.id}", pqr_id=survey.pqr_id)

    def csat_question(self, lang: str, *, type_label: str, radicado: str) -> tuple[str, str]:
        return (t(lang, "survey.csat_subject", radicado=radicado),
                t(lang, "survey.csat_question", type=type_label.lower(), radicado=radicado))

    def nps_question(self, lang: str, *, b2b: bool) -> tuple[str, str]:
        company = self.company or t(lang, "survey.our_company")
        key = "survey.nps_question_b2b" if b2b else "survey.nps_question_b2c"
        return t(lang, "survey.nps_subject", company=company), t(lang, key, company=company)

    def _destinations(self, who: tuple[str | None, ...], registry: ContractRegistry | None,
                      area: str | None) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for identity in who:
            found += self.staff(identity)
        if registry is not None and area:
            known = registry.area(area)
            if known is not None:
                if "slack" in self.enabled and (known.slack_channel or known.slack_user):
                    found.append(("slack", known.slack_channel or known.slack_user or ""))
                elif "email" in self.enabled:
                    found += [("email", e) for e in known.emails]
        return list(dict.fromkeys(found))

    def low_csat(self, survey: SurveyRecord, *, key: str = "") -> list[OutboxItem]:
        """A 1–2 rating: to the assignee and the managers, with a button that reopens the PQR."""
        assert survey.id is not None and survey.score is not None
        lang = self.language
        comment = survey.comment or t(lang, "survey.no_comment")
        payload = SurveyAlert(
            alert="low_csat", survey_id=survey.id, score=survey.score, comment=survey.comment, contact=survey.contact,
            client=survey.client, radicado=survey.radicado, language=lang,
            subject=t(lang, "survey.low_subject", radicado=survey.radicado or "", score=survey.score),
            text=t(lang, "survey.low_text", radicado=survey.radicado or "", score=survey.score,
                   contact=survey.contact, comment=comment),
            action=DecisionAction(action=REOPEN, value=survey.radicado or "",
                                  label=t(lang, "survey.button_reopen")) if survey.radicado else None)
        targets = self._destinations((survey.assignee, *self.managers), None, None)
        return [OutboxItem(channel=ch, destination=dest, payload=payload.stored(),
                           dedupe_key=f"survey-alert:{survey.id}{key}:{ch}:{dest}", pqr_id=survey.pqr_id)
                for ch, dest in targets]

    def detractor(self, survey: SurveyRecord, registry: ContractRegistry | None, *,
                  key: str = "") -> list[OutboxItem]:
        """A 0–6 NPS answer: to the client's account area and the managers, with a button that
        files a PQR from the answer."""
        assert survey.id is not None and survey.score is not None
        lang = self.language
        client = registry.client(survey.client) if registry is not None and survey.client else None
        payload = SurveyAlert(
            alert="detractor", survey_id=survey.id, score=survey.score, comment=survey.comment, contact=survey.contact,
            client=survey.client, language=lang,
            subject=t(lang, "survey.detractor_subject", score=survey.score, client=survey.client or "B2C"),
            text=t(lang, "survey.detractor_text", score=survey.score, contact=survey.contact,
                   client=survey.client or "B2C", comment=survey.comment or t(lang, "survey.no_comment")),
            action=DecisionAction(action=FOLLOWUP, value=str(survey.id), label=t(lang, "survey.button_followup")))
        targets = self._destinations(self.managers, registry, client.account_area if client else None)
        return [OutboxItem(channel=ch, destination=dest, payload=payload.stored(),
                           dedupe_key=f"survey-alert:{survey.id}{key}:{ch}:{dest}")
                for ch, dest in targets]


def expires(now: dt.datetime, days: int) -> dt.datetime:
    return now + dt.timedelta(days=days)
