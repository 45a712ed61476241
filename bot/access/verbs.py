"""`/pqr web`: a one-time sign-in link for the staff pages, `{web.public_url}/login/{token}`, valid
10 minutes and once (bot.access.service), answered only to the one who asked (Slack: ephemeral).
Staff only, as every `/pqr` verb: the command handler refuses anyone else before this runs."""

from __future__ import annotations

import datetime as dt

from bot.access.service import LOGIN_VALID, AccessService
from bot.commands.grammar import ParsedCommand
from bot.commands.handler import Verb
from bot.commands.replies import Reply, Visibility
from bot.i18n import t


class AccessVerbs:
    """The access verbs to register in `CommandHandler`."""

    def __init__(self, access: AccessService, public_url: str, *, language: str = "es") -> None:
        self.access = access
        self.public_url = public_url.rstrip("/")
        self.lang = language

    def verbs(self) -> dict[str, Verb]:
        return {"web": self.web}

    def link(self, token: str) -> str:
        return f"{self.public_url}/login/{token}"

    async def web(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        """The link, to the asker only (NotAllowed for a non-staff identity: the usual refusal)."""
        token = await self.access.login_link_token(actor, now=now)
        minutes = int(LOGIN_VALID.total_seconds() // 60)
        return Reply(text=t(self.lang, "web.staff.link", url=self.link(token), minutes=minutes),
                     language=self.lang, visibility=Visibility.PRIVATE, extra={"url": self.link(token)})
