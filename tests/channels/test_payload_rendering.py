"""Each adapter renders outbox payloads from its `{kind: render}` table: rows stored by earlier
versions still render, and a kind an adapter has no renderer for is Permanent, named — never a
plain-text guess."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from bot.i18n import t
from bot.ports.payloads import (CUSTOMER_MESSAGES, KINDS, Ack, Alert, AnswerReview, Digest, PenaltyDecision, Reply,
                                 ReportDelivery, SurveyAlert, SurveyCsat, SurveyNps, Triage, parse)
from bot.ports import Permanent
from channels.console.adapter import TEXTS, ConsoleChannel
from channels.email import outbound as email
from channels.slack import sender as slack
from channels.telegram import outbound as telegram

RAD = "PQR-2026-000001"
FIRST_DIGEST = {"kind": "digest", "subject": "Resumen de ANS 2026-12-18", "text": "Vencidas: 1",
                "auto_submitted": True}


def test_the_tables_cover_every_kind_each_channel_is_sent() -> None:
    assert set(email.RENDERERS) == set(KINDS) - {Triage}                     # the triage card is Slack's
    # cards with keyboards are sent by their own modules (channels.telegram.penalties, .review), not
    # from the table; scheduled reports go to email and Slack only
    assert set(telegram.RENDERERS) == set(KINDS) - {Triage, PenaltyDecision, AnswerReview, ReportDelivery}
    assert set(slack.RENDERERS) == set(KINDS) - set(CUSTOMER_MESSAGES.values()) - {  # customers are never on Slack
        SurveyCsat, SurveyNps}
    assert set(TEXTS) == set(KINDS) - {Triage, ReportDelivery}


def test_a_digest_of_the_first_version_still_renders() -> None:
    digest = parse(FIRST_DIGEST)
    msg = email.build_message(digest, destination="jefe@pqr.example.co", from_address="pqr@pqr.example.co")
    assert msg["Subject"] == "Resumen de ANS 2026-12-18" and msg["Auto-Submitted"] == "auto-replied"
    assert msg["Content-Language"] is None and msg.get_content() == "Vencidas: 1\n"
    assert telegram.render(digest) == (["Vencidas: 1"], None)


async def test_a_digest_of_the_first_version_goes_to_slack_as_text() -> None:
    sent = await slack.RENDERERS[Digest](None, parse(FIRST_DIGEST))  # type: ignore[arg-type]
    assert sent == {"text": "Vencidas: 1"}


def test_stored_customer_rows_render_as_before() -> None:
    ack = parse({"kind": "ack", "radicado": RAD, "language": "es", "subject": f"[{RAD}] Recibido",
                 "text": "Hola <Ana>"})
    assert telegram.render(ack) == ([t("es", "tg.notice", subject=f"[{RAD}] Recibido", text="Hola &lt;Ana&gt;")],
                                    "HTML")
    reply = Reply(radicado=RAD, language="en", subject="s", text="Done & dusted")
    assert telegram.render(reply) == ([t("en", "tg.reply", radicado=RAD, text="Done &amp; dusted")], "HTML")
    alert = Alert(alert="breached", radicado=RAD, text="vencida")
    msg = email.build_message(alert, destination="a@pqr.example.co", from_address="pqr@pqr.example.co")
    assert msg["Subject"] == f"[{RAD}]" and msg["Auto-Submitted"] is None


def test_email_and_telegram_refuse_a_kind_they_have_no_renderer_for() -> None:
    with pytest.raises(Permanent, match="email: no renderer for outbox kind 'triage'"):
        email.build_message(Triage(radicado=RAD), destination="a@b.co", from_address="pqr@pqr.example.co")
    with pytest.raises(Permanent, match="telegram: no renderer for outbox kind 'triage'"):
        telegram.render(Triage(radicado=RAD))


async def test_slack_and_console_refuse_a_kind_they_have_no_renderer_for() -> None:
    ack = Ack(radicado=RAD, language="es", subject="s", text="hola")
    with pytest.raises(Permanent, match="slack: no renderer for outbox kind 'ack'"):
        await slack.SlackSender(None, None).send("C0TRIAGE", ack)  # type: ignore[arg-type]
    out = io.StringIO()
    console = ConsoleChannel(None, "console:dev", lambda: dt.datetime.now(dt.timezone.utc),  # type: ignore[arg-type]
                             stdin=io.StringIO(), stdout=out)
    await console.send("console:dev", ack)
    assert "hola" in out.getvalue()
    with pytest.raises(Permanent, match="console: no renderer for outbox kind 'triage'"):
        await console.send("console:dev", Triage(radicado=RAD))


async def test_survey_kinds_render_with_links_buttons_and_escaped_comments() -> None:
    csat = SurveyCsat(survey_id=7, language="es", subject="[R] ¿Cómo le atendimos?", text="¿Qué tan <satisfecho>?",
                      low=1, high=5, url="http://x/encuesta/T", optout_url="http://x/encuesta/T/baja", radicado=RAD)
    msg = email.build_message(csat, destination="ana@example.co", from_address="pqr@pqr.example.co")
    body = msg.get_content()
    assert "http://x/encuesta/T\n" in body and "http://x/encuesta/T/baja" in body
    assert msg["Auto-Submitted"] == "auto-replied"
    texts, mode = telegram.render(csat)
    assert mode == "HTML" and "&lt;satisfecho&gt;" in texts[0]
    from channels.telegram.surveys import keyboard, parse as parse_press
    rows = keyboard(SurveyNps(survey_id=9, language="es", subject="s", text="q", low=0, high=10)).inline_keyboard
    assert [b.text for row in rows for b in row] == [str(n) for n in range(11)]
    assert parse_press(rows[1][4].callback_data) == (9, 10) and parse_press("c:sv:x:1") is None
    alert = SurveyAlert(alert="detractor", survey_id=9, score=3, comment="<@U1> *malo*", contact="email:a@b.co",
                        language="es", subject="NPS", text="Por qué: <@U1> *malo*",
                        action={"action": "survey_followup", "value": "9", "label": "Radicar"})  # type: ignore[arg-type]
    sent = await slack.RENDERERS[SurveyAlert](None, alert)  # type: ignore[arg-type]
    assert isinstance(sent, dict) and "<@U1>" not in sent["text"] and "&lt;@U1&gt;" in sent["blocks"][1]["text"]["text"]
    assert sent["blocks"][2]["elements"][0]["action_id"] == "pqr.survey_followup"
