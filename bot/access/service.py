"""Access to the web and the API, kept in the database (every instance behind a balancer shares
it; nothing lives only in one process): REST API tokens (`pqrbot token …`; only the sha256 is
stored, the token is shown once), one-time sign-in links (`/pqr web`: valid 10 minutes, once),
staff sessions (with their CSRF token, for `web.session_hours`), and per-key rate counts. Every
session checks that its identity is still staff: a removed identity is refused at once.

Issuing a link, signing in, creating and revoking a token are audited with who did it.

A session or a token once found is remembered for `RECENT` (5 s of the clock's `now`), so a page or
an API call does not open a transaction just to read it again. The bound that buys: signing out or
revoking through this service applies at once; a session ended or a token revoked elsewhere (`pqrbot
token revoke`, another instance) is refused by this one within `RECENT`. Expiry and the identity's
role are checked on every request, remembered or not. A token's `last_used_at` is written at most
once per `TOUCH_EVERY` (a minute) per token and instance, so `pqrbot token list` may show a last use
up to a minute old."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.roles import Roles
from domain.errors import DomainError, NotAllowed
from domain.events import Event
from storage.ports import ApiToken, Database, WebSession

LOGIN_VALID = dt.timedelta(minutes=10)
ROLES = ("staff", "manager")
RECENT = dt.timedelta(seconds=5)          # how long a found session or token is taken as still valid
TOUCH_EVERY = dt.timedelta(minutes=1)     # how often a token's last use is written
RECENT_MAX = 4096                         # sessions and tokens remembered, each

V = TypeVar("V")


class Recent(Generic[V]):
    """What was read for a secret's digest, with when, for `ttl` of `now` (a clock jumping
    back forgets it); at most `size` entries, the least recently put dropped first."""

    def __init__(self, ttl: dt.timedelta, size: int = RECENT_MAX) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[str, tuple[V, dt.datetime]] = OrderedDict()

    def get(self, key: str, now: dt.datetime) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        value, at = found
        if not at <= now < at + self.ttl:
            del self._items[key]
            return None
        return value

    def put(self, key: str, value: V, now: dt.datetime) -> None:
        self._items[key] = (value, now)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def drop(self, key: str) -> None:
        self._items.pop(key, None)

    def drop_where(self, unwanted: Callable[[V], bool]) -> None:
        for key in [k for k, (v, _) in self._items.items() if unwanted(v)]:
            del self._items[key]


class TokenRefused(DomainError):
    """`pqrbot token …` refused: `reason` is name_taken | bad_role | not_found | bad_name."""

    def __init__(self, reason: str, name: str) -> None:
        super().__init__(f"{reason}: {name}")
        self.reason = reason
        self.name = name


def digest(secret: str) -> str:
    """What is stored of a secret: its sha256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie's value (shown once), its CSRF token, who, until when."""

    token: str
    csrf: str
    identity: str
    expires_at: dt.datetime


class AccessService:
    """Tokens, sign-in links, sessions and rate counts on a storage `Database`."""

    def __init__(self, db: Database, roles: Roles, *, session_hours: int = 12) -> None:
        self.db = db
        self.roles = roles
        self.session_hours = session_hours
        self._sessions: Recent[WebSession] = Recent(RECENT)
        self._tokens: Recent[ApiToken] = Recent(RECENT)
        self._touched: dict[str, dt.datetime] = {}       # token digest -> last use written

    # -- API tokens ------------------------------------------------------------------------------
    async def create_token(self, name: str, role: str, *, actor: str, now: dt.datetime) -> str:
        """A new token for `role` (staff | manager), returned once; TokenRefused otherwise."""
        name = name.strip()
        if not name or len(name) > 100:
            raise TokenRefused("bad_name", name)
        if role not in ROLES:
            raise TokenRefused("bad_role", role)
        token = "pqr_" + secrets.token_urlsafe(32)
        async with self.db.uow() as uow:
            if not await uow.access.add_token(name, role, digest(token), now=now):
                raise TokenRefused("name_taken", name)
            await uow.audit.record(Event(kind="api_token_created", actor=actor, at=now, to=name, data={"role": role}))
            await uow.commit()
        return token

    async def tokens(self) -> list[ApiToken]:
        async with self.db.uow(readonly=True) as uow:
            return await uow.access.tokens()

    async def revoke_token(self, name: str, *, actor: str, now: dt.datetime) -> None:
        async with self.db.uow() as uow:
            if not await uow.access.revoke_token(name.strip(), now=now):
                raise TokenRefused("not_found", name)
            await uow.audit.record(Event(kind="api_token_revoked", actor=actor, at=now, to=name))
            await uow.commit()
        self._tokens.drop_where(lambda found: found.name == name.strip())

    async def token(self, presented: str, *, now: dt.datetime) -> ApiToken | None:
        """The live token `presented` is, or None (unknown or revoked; revoked elsewhere: within
        `RECENT`). Its last use is written when the one written is `TOUCH_EVERY` old."""
        if not presented or len(presented) > 200:
            return None
        key = digest(presented)
        found = self._tokens.get(key, now)
        if found is None:
            async with self.db.uow(readonly=True, short=True) as uow:
                found = await uow.access.find_token(key)
            if found is None:
                return None
            self._tokens.put(key, found, now)
            if found.last_used_at is not None:      # written by this instance or another one
                self._touched[key] = max(found.last_used_at, self._touched.get(key, found.last_used_at))
        last = self._touched.get(key)
        if last is None or not last <= now < last + TOUCH_EVERY:
            async with self.db.uow() as uow:
                await uow.access.touch_token(key, now=now)
                await uow.commit()
            self._touched[key] = now
            if len(self._touched) > RECENT_MAX:
                self._touched.clear()
        return found

    # -- sign-in links and sessions ---------------------------------------------------------------
    async def login_link_token(self, identity: str, *, now: dt.datetime) -> str:
        """A one-time sign-in token for a staff identity (NotAllowed for anyone else)."""
        if not self.roles.is_staff(identity):
            raise NotAllowed(identity)
        token = secrets.token_urlsafe(32)
        async with self.db.uow() as uow:
            await uow.access.add_login(digest(token), identity, now=now, expires_at=now + LOGIN_VALID)
            await uow.audit.record(Event(kind="web_link_issued", actor=identity, at=now))
            await uow.commit()
        return token

    async def sign_in(self, link_token: str, *, now: dt.datetime) -> SignedIn | None:
        """Use up a sign-in link and open a session; None for a used, expired or unknown link,
        or an identity that is no longer staff."""
        if not link_token or len(link_token) > 200:
            return None
        async with self.db.uow() as uow:
            identity = await uow.access.use_login(digest(link_token), now=now)
            if identity is None or not self.roles.is_staff(identity):
                await uow.commit()
                return None
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
            expires = now + dt.timedelta(hours=self.session_hours)
            await uow.access.add_session(digest(token), identity, csrf, now=now, expires_at=expires)
            await uow.audit.record(Event(kind="web_signed_in", actor=identity, at=now))
            await uow.commit()
        return SignedIn(token=token, csrf=csrf, identity=identity, expires_at=expires)

    async def session(self, token: str | None, *, now: dt.datetime) -> WebSession | None:
        """The live session of a cookie value whose identity is still staff, or None (ended
        elsewhere: within `RECENT`)."""
        if not token or len(token) > 200:
            return None
        key = digest(token)
        found = self._sessions.get(key, now)
        if found is None:
            async with self.db.uow(readonly=True, short=True) as uow:
                found = await uow.access.session(key, now=now)
            if found is None:
                return None
            self._sessions.put(key, found, now)
        if found.expires_at <= now or not self.roles.is_staff(found.identity):
            return None
        return found

    async def sign_out(self, token: str, *, now: dt.datetime) -> None:
        key = digest(token)
        async with self.db.uow() as uow:
            await uow.access.end_session(key, now=now)
            await uow.commit()
        self._sessions.drop(key)

    # -- rate counts -----------------------------------------------------------------------------
    async def allow(self, key: str, *, limit: int, window: dt.timedelta, now: dt.datetime) -> bool:
        """Count one event for `key`; False once more than `limit` fell within `window`."""
        async with self.db.uow() as uow:
            count = await uow.access.hit(key, now=now, window=window)
            await uow.commit()
        return count <= limit
