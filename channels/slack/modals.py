"""The intake form (`/pqr new` with no arguments) and the reply form (the Reply button): views to
open, and their submissions read back and validated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.i18n import t
from domain.customer import email_address
from domain.errors import InvalidInput
from domain.limits import NAME_MAX, PHONE_MAX, SUBJECT_MAX
from domain.pqr_types import PqrType

from channels.slack.mrkdwn import clip

INTAKE = "pqr.intake"
REPLY = "pqr.reply"
RECEIVED_BY = ("phone", "in_person")


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit)}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": _plain(label, 2000), "optional": optional,
            "element": {**element, "action_id": "value"}}


def _text_input(*, multiline: bool = False, max_length: int = 3000) -> dict[str, Any]:
    return {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}


def intake_view(lang: str, *, channel_id: str) -> dict[str, Any]:
    """The form for a PQR taken by phone or in person; `channel_id` is where the command ran."""
    types = [_option(t(lang, f"type.{pt.value}"), pt.value) for pt in PqrType]
    received = [_option(t(lang, f"slack.channel_{v}"), v) for v in RECEIVED_BY]
    return {
        "type": "modal", "callback_id": INTAKE,
        "title": _plain(t(lang, "slack.intake_title"), 24),
        "submit": _plain(t(lang, "slack.intake_submit"), 24),
        "close": _plain(t(lang, "slack.cancel"), 24),
        "private_metadata": json.dumps({"channel": channel_id}),
        "blocks": [
            _input("type", t(lang, "slack.intake_type"),
                   {"type": "static_select", "options": types, "initial_option": types[0]}),
            _input("received_by", t(lang, "slack.intake_channel"),
                   {"type": "static_select", "options": received, "initial_option": received[0]}),
            _input("name", t(lang, "slack.intake_name"), _text_input(max_length=200)),
            _input("email", t(lang, "slack.intake_email"), _text_input(max_length=254), optional=True),
            _input("phone", t(lang, "slack.intake_phone"), _text_input(max_length=40), optional=True),
            _input("subject", t(lang, "slack.intake_subject"), _text_input(max_length=200)),
            _input("body", t(lang, "slack.intake_body"), _text_input(multiline=True), optional=True),
        ],
    }


def reply_view(lang: str, *, radicado: str, channel_id: str | None, message_ts: str | None) -> dict[str, Any]:
    """The form behind a card's Reply button."""
    return {
        "type": "modal", "callback_id": REPLY,
        "title": _plain(t(lang, "slack.reply_title"), 24),
        "submit": _plain(t(lang, "slack.reply_submit"), 24),
        "close": _plain(t(lang, "slack.cancel"), 24),
        "private_metadata": json.dumps({"radicado": radicado, "channel": channel_id, "ts": message_ts}),
        "blocks": [_input("answer", t(lang, "slack.reply_label", radicado=radicado), _text_input(multiline=True))],
    }


def _values(view: dict[str, Any]) -> dict[str, str]:
    """block_id -> the submitted value (text inputs and selects alike), stripped."""
    out: dict[str, str] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        field = (actions or {}).get("value") or {}
        value = field.get("value")
        if value is None and isinstance(field.get("selected_option"), dict):
            value = field["selected_option"].get("value")
        out[block_id] = (value or "").strip()
    return out


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The view's private_metadata (our JSON), or {} when it is not ours."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Intake:
    """A submitted intake form."""

    pqr_type: PqrType
    received_by: str
    name: str
    email: str | None
    phone: str | None
    subject: str
    body: str


def read_intake(view: dict[str, Any], lang: str) -> tuple[Intake | None, dict[str, str]]:
    """The submission, or None and the errors to show next to each field (block_id -> text)."""
    v = _values(view)
    errors: dict[str, str] = {}
    for required in ("name", "subject"):
        if not v.get(required):
            errors[required] = t(lang, "slack.err_required")
    email, phone = v.get("email") or None, v.get("phone") or None
    if email:
        try:
            email = email_address(email)
        except InvalidInput:
            errors["email"] = t(lang, "slack.err_email")
    elif not phone:
        errors["email"] = t(lang, "slack.err_contact")
    # Slack's max_length is the browser's: a crafted submission can still send more.
    for block, limit, code in (("name", NAME_MAX, "name_too_long"), ("phone", PHONE_MAX, "phone_too_long"),
                               ("subject", SUBJECT_MAX, "subject_too_long")):
        if len(v.get(block, "")) > limit:
            errors[block] = t(lang, f"input.{code}", value=limit)
    try:
        pqr_type = PqrType(v.get("type", ""))
    except ValueError:
        errors["type"] = t(lang, "slack.err_required")
        pqr_type = PqrType.PETICION
    received_by = v.get("received_by") if v.get("received_by") in RECEIVED_BY else "phone"
    if errors:
        return None, errors
    subject = v["subject"]
    return Intake(pqr_type=pqr_type, received_by=received_by or "phone", name=v["name"], email=email,
                  phone=phone, subject=subject, body=v.get("body") or subject), {}


def read_answer(view: dict[str, Any]) -> str:
    """The text typed in the reply form."""
    return typed(view, "answer")


def typed(view: dict[str, Any], block_id: str) -> str:
    """What was submitted in the input `block_id` of a view, stripped ("" when nothing)."""
    return _values(view).get(block_id, "")
