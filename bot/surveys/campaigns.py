"""NPS campaigns (`pqrbot survey nps send`): who is asked — B2B: the contract files' client
`contacts` (else `notify_emails`); B2C: customers who had a PQR and consented — minus anyone who
opted out, anyone without consent and anyone asked within `surveys.nps.min_days_between`, then a
random sample; each selected contact gets the 0–10 question on their channel (queued through the
outbox, which holds it for the contact hours)."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.config import Config
from bot.contracts.service import ContractService
from bot.surveys.notices import SurveyNotices, expires, new_token
from domain.contracts import Client, ContractRegistry, Segment
from domain.errors import InvalidInput, NotFound
from storage.ports import Database, SurveyContact, SurveyRecord, UnitOfWork


@dataclass(frozen=True)
class Target:
    """A contact of the campaign and who they speak for."""

    who: SurveyContact
    segment: str                 # b2b | b2c
    client: str | None


@dataclass
class CampaignResult:
    campaign: str
    selected: list[Target] = field(default_factory=list)
    skipped_recent: int = 0
    skipped_no_consent: int = 0
    queued: int = 0

    def json(self) -> dict[str, Any]:
        return {"campaign": self.campaign,
                "selected": [{"contact": x.who.contact, "name": x.who.name, "channel": x.who.channel,
                              "segment": x.segment, "client": x.client} for x in self.selected],
                "skipped_recent": self.skipped_recent, "skipped_no_consent": self.skipped_no_consent,
                "queued": self.queued}


def parse_segment(text: str) -> tuple[str, str | None]:
    """`b2b`, `b2c` or `client:NAME` → (segment, client name)."""
    value = text.strip()
    if value.lower() in ("b2b", "b2c"):
        return value.lower(), None
    if value.lower().startswith("client:") and value[7:].strip():
        return "client", value[7:].strip()
    raise InvalidInput(f"unknown segment {text!r}", code="segment", value=text[:60])


def _client_targets(client: Client) -> list[Target]:
    found = []
    segment = "b2b" if client.segment is Segment.B2B else "b2c"
    for c in client.survey_contacts():
        if c.email:
            who = SurveyContact(f"email:{c.email.lower()}", c.name or client.name, "email", c.email, "es", "contract")
        elif c.telegram_user is not None:
            who = SurveyContact(f"telegram:{c.telegram_user}", c.name or client.name, "telegram",
                                str(c.telegram_user), "es", "contract")
        else:
            continue
        found.append(Target(who, segment, client.name))
    return found


class NpsCampaigns:
    def __init__(self, db: Database, config: Config, notices: SurveyNotices, contracts: ContractService) -> None:
        self.db = db
        self.config = config
        self.notices = notices
        self.contracts = contracts

    async def _targets(self, uow: UnitOfWork, registry: ContractRegistry, segment: str,
                       client: str | None) -> list[Target]:
        if segment == "client":
            found = registry.client(client or "")
            if found is None:
                raise NotFound(client or "")
            return _client_targets(found)
        if segment == "b2b":
            return [x for c in registry.clients if c.segment is Segment.B2B for x in _client_targets(c)]
        targets = []
        for who in await uow.surveys.b2c_contacts():
            address = who.destination if who.channel == "email" else None
            tg = int(who.destination) if who.channel == "telegram" else None
            owner = registry.client_for(email=address, telegram_user=tg)
            if owner is not None and owner.segment is Segment.B2B:
                continue          # a client's staff are asked as a company, in the B2B campaign
            targets.append(Target(who, "b2c", owner.name if owner else None))
        return targets

    async def send(self, segment_text: str, *, now: dt.datetime, sample_pct: float | None = None,
                   dry_run: bool = False, rng: random.Random | None = None) -> CampaignResult:
        """Select and (unless `dry_run`) queue the campaign's surveys."""
        segment, client = parse_segment(segment_text)
        if sample_pct is not None and not 0 < sample_pct <= 100:
            raise InvalidInput(f"sample {sample_pct}", code="sample", value=str(sample_pct))
        slug = segment if client is None else "client"
        result = CampaignResult(f"nps-{now.date().isoformat()}-{slug}-{secrets.token_hex(3)}")
        async with self.db.uow() as uow:
            registry = await self.contracts.registry_in(uow)
            targets = list({x.who.contact: x for x in await self._targets(uow, registry, segment, client)}.values())
            contacts = [x.who.contact for x in targets]
            flags = await uow.surveys.contact_flags(contacts)
            asked = await uow.surveys.last_asked(contacts, "nps")
            since = now - dt.timedelta(days=self.config.surveys.nps.min_days_between)
            eligible = []
            for x in targets:
                source, opted_out = flags.get(x.who.contact, (None, False))
                if opted_out or not (x.who.consent or source):
                    result.skipped_no_consent += 1
                elif x.who.contact in asked and asked[x.who.contact] > since:
                    result.skipped_recent += 1
                else:
                    eligible.append(x)
            if sample_pct is not None and sample_pct < 100 and eligible:
                count = max(1, round(len(eligible) * sample_pct / 100))
                eligible = sorted((rng or random.SystemRandom()).sample(eligible, count),
                                  key=lambda x: x.who.contact)
            result.selected = eligible
            if dry_run:
                return result
            for x in eligible:
                await self._queue(uow, x, result.campaign, now)
                result.queued += 1
            await uow.commit()
        return result

    async def _queue(self, uow: UnitOfWork, x: Target, campaign: str, now: dt.datetime) -> None:
        token, hashed = new_token() if x.who.channel == "email" else (None, None)
        survey = SurveyRecord(kind="nps", contact=x.who.contact, channel=x.who.channel, destination=x.who.destination,
                              language=x.who.language, sent_at=now,
                              expires_at=expires(now, self.config.surveys.nps.valid_days), campaign=campaign,
                              segment=x.segment, client=x.client, token_hash=hashed)
        await uow.surveys.add(survey)
        subject, question = self.notices.nps_question(survey.language, b2b=x.segment == "b2b")
        await uow.outbox.put(self.notices.request(survey, token, question=question, subject=subject), now=now)
