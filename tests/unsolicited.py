"""A stand-in `survey_csat` payload for the contact-hours tests: the outbox holds rows by their
kind, so these tests need a row of that kind that the worker parses and the email channel renders,
whatever state the surveys' own payload and renderers are in. `install` makes the worker parse it
and the email channel render it as plain customer mail; replace it with `SurveyCsat` once every
channel renders that."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import pytest

import bot.outbox.worker
from bot.ports.payloads import BasePayload, OutboxPayload, parse
from channels.email import outbound
from channels.email.outbound import Mail


class StandInSurvey(BasePayload):
    kind: Literal["survey_csat"] = "survey_csat"
    language: str = "es"
    subject: str
    text: str


def survey(subject: str = "¿Cómo lo atendimos?", text: str = "Califique de 1 a 5.") -> dict[str, Any]:
    """The stored payload of a stand-in survey."""
    return StandInSurvey(subject=subject, text=text).stored()


def _parse(stored: Mapping[str, Any]) -> OutboxPayload:
    if stored.get("kind") == "survey_csat":
        return StandInSurvey.model_validate(stored)  # type: ignore[return-value]
    return parse(stored)


def _render(p: StandInSurvey) -> Mail:
    return Mail(subject=p.subject, text=p.text, language=p.language, auto_submitted=True)


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.outbox.worker, "parse", _parse)
    renderers: dict[type[BasePayload], Callable[[Any], Mail]] = outbound.RENDERERS
    kind: type[BasePayload] = StandInSurvey
    monkeypatch.setitem(renderers, kind, _render)
