"""Bolt listeners: Slack request → command text or service call → Reply → Block Kit. Thin on
purpose; the command layer decides everything that is not about Slack."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.grammar import GrammarError, parse
from bot.commands.replies import Visibility
from bot.i18n import t
from bot.pqrs.service import FilingRequest
from domain.attachments import AttachmentNotFound
from domain.files import FileData
from domain.errors import DomainError, InvalidTransition, NotFound

from channels.slack import blocks, modals
from channels.slack.mrkdwn import escape, identity
from channels.slack.penalties import SlackPenalties
from channels.slack.review import SlackReview
from channels.slack.services import SlackServices
from channels.slack.surveys import SlackSurveys

log = logging.getLogger(__name__)
CARD_ACTION = re.compile(r"^pqr\.(take|show|reply)$")
PAGE_ACTION = re.compile(r"^pqr\.page\.\d+$")
FILE_ACTION = re.compile(r"^pqr\.file\.(\d+|pick\..+)$")
_BUTTON_LABEL = {"take": "button.take", "show": "button.open", "reply": "button.reply"}


def actor_of(user_id: str) -> str:
    """Slack user U123 is `slack:U123` everywhere in pqrbot (roles, audit, assignees)."""
    return f"slack:{user_id}"


def inbound_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery from Slack, so a retry of it is recognised: the event id, or
    the trigger id of a command, button press or form submission."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    trigger = body.get("trigger_id")
    if trigger:
        return f"{body.get('type') or body.get('command') or 'request'}:{trigger}"
    return None


class SlackListeners:
    """Registers the `/pqr` command, the card buttons, paging and the two forms on a Bolt app."""

    def __init__(self, services: SlackServices, client: AsyncWebClient) -> None:
        self.services = services
        self.client = client
        self.lang = services.commands.lang
        self.penalties = SlackPenalties(services, client)
        self.review = SlackReview(services, client)
        self.surveys = SlackSurveys(services.surveys, client, lang=self.lang, clock=services.clock)

    def register(self, bolt: AsyncApp) -> None:
        bolt.use(self.once)
        bolt.command("/pqr")(self.on_command)
        bolt.action(CARD_ACTION)(self.on_card_button)
        bolt.action(PAGE_ACTION)(self.on_page)
        bolt.action(FILE_ACTION)(self.on_file)
        bolt.view(modals.INTAKE)(self.on_intake)
        bolt.view(modals.REPLY)(self.on_reply)
        self.penalties.register(bolt)          # Aprobar / Rechazar and the reason modal
        self.review.register(bolt)             # answers: Aprobar / Devolver and the comment modal
        self.surveys.register(bolt)            # survey alerts: reopen / file a PQR

    # -- middleware -----------------------------------------------------------------------------
    async def once(self, body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """A delivery seen before (a Slack retry, an envelope sent again) is acknowledged and not
        acted on. The key is written before acting: acting twice is worse than not acting."""
        key = inbound_key(body)
        if key is not None:
            fresh = await self.services.pqrs.remember_inbound("slack", key[:900], now=self.services.clock())
            if not fresh:
                log.info("slack: duplicate delivery %s ignored", key)
                return BoltResponse(status=200, body="")
        await next()
        return None

    # -- /pqr -----------------------------------------------------------------------------------
    async def on_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        actor, text = actor_of(command.get("user_id", "")), command.get("text") or ""
        if self._wants_form(text) and self.services.roles.is_staff(actor):
            await ack()
            await self.client.views_open(trigger_id=command["trigger_id"],
                                         view=modals.intake_view(self.lang, channel_id=command.get("channel_id", "")))
            return
        await ack()   # inside Slack's 3 s; the answer follows through response_url
        reply = await self.services.commands.handle(actor, text, self.services.clock())
        list_args = self._list_args(text)
        report = self.penalties.is_report(reply)
        public = reply.visibility is Visibility.PUBLIC or report
        await respond(**blocks.render_reply(reply, self.services.commands, list_args=list_args),
                      response_type="in_channel" if public else "ephemeral", replace_original=False)
        if report:
            await self.penalties.post_chart(command.get("channel_id"), reply)
        await self._post_files(command.get("channel_id"), reply.files, reply.title or "")

    async def _post_files(self, channel: str | None, files: tuple[FileData, ...], title: str) -> None:
        """Upload a reply's files (a chart) into the channel the command ran in (files_upload_v2)."""
        for f in files:
            if not channel:
                return
            try:
                await self.client.files_upload_v2(channel=channel, file=f.data, filename=f.filename,
                                                  title=title or f.filename)
            except SlackApiError as exc:
                log.warning("slack: %s not posted: %s", f.filename, exc.response.get("error"))
            except SlackClientError as exc:
                log.warning("slack: %s not posted: %s", f.filename, exc)

    @staticmethod
    def _wants_form(text: str) -> bool:
        try:
            cmd = parse(text)
        except GrammarError:
            return False
        return cmd.verb == "new" and not cmd.args

    @staticmethod
    def _list_args(text: str) -> str:
        try:
            cmd = parse(text)
        except GrammarError:
            return ""
        if cmd.verb != "list":
            return ""
        return " ".join(a for a in cmd.args if not a.lower().startswith(("page:", "pagina:", "página:")))

    # -- buttons --------------------------------------------------------------------------------
    async def on_card_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = body["user"]["id"]
        actor, kind, rad = actor_of(user), action["action_id"].split(".", 1)[1], action.get("value", "")
        channel, ts = self._where(body)
        now = self.services.clock()
        if not self.services.roles.is_staff(actor):
            await self.services.pqrs.record_refusal(actor=actor, action=f"slack_button:{kind}", reason="not_staff",
                                                  now=now, radicado=rad or None)
            await self._ephemeral(channel, user, t(self.lang, "slack.not_staff_button"))
            return
        if kind == "reply":
            await self.client.views_open(trigger_id=body["trigger_id"], view=modals.reply_view(
                self.lang, radicado=rad, channel_id=channel, message_ts=ts))
            return
        reply = await self.services.commands.handle(actor, f"{kind} {rad}", now)
        if not reply.ok or kind == "show":
            msg = blocks.render_reply(reply, self.services.commands)
            await self._ephemeral(channel, user, msg["text"], msg["blocks"])
        if reply.ok and kind != "show":
            # Only a change redraws the pressed message: "show" also sits on digest rows, and
            # redrawing would replace the whole digest with one card.
            await self._refresh(channel, ts, rad, actor, kind)

    async def on_file(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A card's attachment button (or select): staff get the file uploaded into the card's
        thread (files_upload_v2); on an ephemeral card, which has no thread, in a DM to them."""
        await ack()
        user = body["user"]["id"]
        actor, now, choice = actor_of(user), self.services.clock(), blocks.file_choice(action)
        channel, ts = self._where(body)
        if not self.services.roles.is_staff(actor):
            await self.services.pqrs.record_refusal(actor=actor, action="slack_button:attachment", reason="not_staff",
                                                    now=now, radicado=choice[0] if choice else None)
            await self._ephemeral(channel, user, t(self.lang, "slack.not_staff_button"))
            return
        if choice is None:
            return
        rad, file_id = choice
        try:
            found, data = await self.services.pqrs.attachment(rad, file_id)
        except AttachmentNotFound:
            await self._ephemeral(channel, user, escape(t(self.lang, "slack.attachment_gone", radicado=rad)))
            return
        except NotFound as exc:
            await self._ephemeral(channel, user, escape(self.services.commands.refusal(exc)))
            return
        name = found.filename
        try:
            if (body.get("container") or {}).get("is_ephemeral") or not ts:
                channel, ts = str((await self.client.conversations_open(users=user))["channel"]["id"]), None
            await self.client.files_upload_v2(
                channel=channel, thread_ts=ts, file=data, filename=name, title=name,
                initial_comment=escape(t(self.lang, "slack.attachment_comment", radicado=rad, filename=name)))
        except SlackApiError as exc:
            log.warning("slack: attachment %s of %s not uploaded: %s", file_id, rad, exc.response.get("error"))
            await self._ephemeral(channel, user, escape(t(self.lang, "slack.attachment_failed", filename=name,
                                                          error=exc.response.get("error") or "error")))
        except (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            log.warning("slack: attachment %s of %s not uploaded: %s", file_id, rad, exc)
            await self._ephemeral(channel, user, escape(t(self.lang, "slack.attachment_failed", filename=name,
                                                          error=type(exc).__name__)))

    async def on_page(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        try:
            value = json.loads(action.get("value") or "{}")
            args, page = str(value.get("args", "")), int(value.get("page", 1))
        except (ValueError, TypeError, AttributeError):
            return
        reply = await self.services.commands.handle(actor_of(body["user"]["id"]), f"list {args} page:{page}",
                                               self.services.clock())
        await respond(**blocks.render_reply(reply, self.services.commands, list_args=args),
                      response_type="ephemeral", replace_original=True)

    # -- forms ----------------------------------------------------------------------------------
    async def on_intake(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        actor, now = actor_of(user), self.services.clock()
        if not self.services.roles.is_staff(actor):
            await self.services.pqrs.record_refusal(actor=actor, action="slack_form:new", reason="not_staff", now=now)
            await ack(response_action="errors", errors={"name": t(self.lang, "not_staff")})
            return
        intake, errors = modals.read_intake(view, self.lang)
        if intake is None:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        try:
            pqr = await self.services.pqrs.file(FilingRequest(
                pqr_type=intake.pqr_type, channel=intake.received_by, name=intake.name, subject=intake.subject,
                body=intake.body, received_at=now, actor=actor, email=intake.email, phone=intake.phone,
                language=self.services.language))
        except DomainError as exc:   # the form is closed by now: the refusal comes as a message
            await self._ephemeral(modals.metadata(view).get("channel"), user,
                                  escape(self.services.commands.refusal(exc)))
            return
        if pqr is None:
            return
        text = t(self.lang, "filed", radicado=pqr.radicado, type=t(self.lang, f"type.{pqr.type.value}"),
                 due=self.services.commands.fmt(pqr.due_at))
        await self._ephemeral(modals.metadata(view).get("channel"), user, escape(text))

    async def on_reply(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        actor, now, meta = actor_of(user), self.services.clock(), modals.metadata(view)
        rad, answer = str(meta.get("radicado", "")), modals.read_answer(view)
        if not self.services.roles.is_staff(actor) or not answer:
            if not self.services.roles.is_staff(actor):
                await self.services.pqrs.record_refusal(actor=actor, action="slack_form:reply", reason="not_staff",
                                                      now=now, radicado=rad or None)
            key = "not_staff" if answer else "slack.err_required"
            await ack(response_action="errors", errors={"answer": t(self.lang, key)})
            return
        await ack()
        try:
            pqr, channel = await self.services.pqrs.reply(rad, answer, actor=actor, now=now)
        except InvalidTransition as exc:
            await self.services.pqrs.record_refusal(actor=actor, action="reply", now=now, radicado=rad,
                                                    reason=f"invalid_transition:{exc.current}->{exc.wanted}")
            text = self.services.commands.refusal(exc)
        except DomainError as exc:
            text = self.services.commands.refusal(exc)
        else:
            text = (t(self.lang, "replied", radicado=pqr.radicado, customer=pqr.customer.name, channel=channel)
                    if channel else t(self.lang, "replied_unreachable", radicado=pqr.radicado))
            await self._refresh(meta.get("channel"), meta.get("ts"), rad, actor, "reply")
        await self._ephemeral(meta.get("channel"), user, escape(text))

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        return channel, container.get("message_ts") or (body.get("message") or {}).get("ts")

    async def _refresh(self, channel: str | None, ts: str | None, rad: str, actor: str, kind: str) -> None:
        """Redraw the card message that was pressed (chat.update) with the PQR as it is now."""
        if not channel or not ts:
            return
        try:
            pqr = await self.services.pqrs.show(rad)
        except NotFound:
            return
        done = t(self.lang, "slack.updated_by", action=t(self.lang, _BUTTON_LABEL[kind]), actor=identity(actor))
        msg = blocks.triage_message(pqr, self.services.commands, self.services.clock(), last_action=done)
        try:
            await self.client.chat_update(channel=channel, ts=ts, **msg)
        except SlackApiError as exc:
            log.warning("slack: chat.update of %s failed: %s", rad, exc.response.get("error"))

    async def _ephemeral(self, channel: str | None, user: str, text: str,
                         block_list: list[dict[str, Any]] | None = None) -> None:
        if not channel:
            return
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=block_list)
        except SlackApiError as exc:
            log.warning("slack: ephemeral answer to %s failed: %s", user, exc.response.get("error"))
