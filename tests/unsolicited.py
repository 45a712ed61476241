"""The survey row the contact-hours tests queue: a real `SurveyCsat`, which the outbox holds by
its kind and the email channel renders like any other."""

from __future__ import annotations

from typing import Any

from bot.ports.payloads import SurveyCsat


def survey(subject: str = "¿Cómo lo atendimos?", text: str = "Califique de 1 a 5.") -> dict[str, Any]:
    """The stored payload of a CSAT survey (no survey row behind it: the outbox needs none)."""
    return SurveyCsat(survey_id=0, language="es", subject=subject, text=text, low=1, high=5).stored()
