"""`AccessStore`: API tokens, one-time sign-in links, staff sessions and per-key rate counts — the
web's state, kept in the database so every instance behind a balancer shares it. Secrets are
stored as their sha256 only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from storage.ports import ApiToken, WebSession
from storage.sqlite_inline import SqlConnection
from storage.tables import api_tokens, rate_events, web_logins, web_sessions


def _token(r: Any) -> ApiToken:
    return ApiToken(name=r.name, role=r.role, created_at=r.created_at, revoked_at=r.revoked_at,
                    last_used_at=r.last_used_at)


class SqlAccess:
    """`AccessStore` on the api_tokens, web_logins, web_sessions and rate_events tables."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    # -- API tokens ------------------------------------------------------------------------------
    async def add_token(self, name: str, role: str, token_hash: str, *, now: dt.datetime) -> bool:
        """Store a token; False when the name is taken (by a live or a revoked token)."""
        taken = (await self._conn.execute(select(api_tokens.c.id).where(api_tokens.c.name == name))).first()
        if taken is not None:
            return False
        await self._conn.execute(insert(api_tokens).values(name=name, role=role, token_hash=token_hash,
                                                           created_at=now))
        return True

    async def token_by_hash(self, token_hash: str, *, now: dt.datetime) -> ApiToken | None:
        """The live token with this hash (its last use recorded), or None."""
        row = (await self._conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash,
                                                                 api_tokens.c.revoked_at.is_(None)))).first()
        if row is None:
            return None
        await self._conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now))
        return _token(row)

    async def find_token(self, token_hash: str) -> ApiToken | None:
        """The live token with this hash, or None; nothing is written (see `touch_token`)."""
        row = (await self._conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash,
                                                                 api_tokens.c.revoked_at.is_(None)))).first()
        return _token(row) if row is not None else None

    async def touch_token(self, token_hash: str, *, now: dt.datetime) -> None:
        """Record `now` as the token's last use."""
        await self._conn.execute(update(api_tokens).where(api_tokens.c.token_hash == token_hash)
                                 .values(last_used_at=now))

    async def tokens(self) -> list[ApiToken]:
        rows = (await self._conn.execute(select(api_tokens).order_by(api_tokens.c.name))).all()
        return [_token(r) for r in rows]

    async def revoke_token(self, name: str, *, now: dt.datetime) -> bool:
        """Revoke the live token named `name`; False when there is none."""
        result = await self._conn.execute(update(api_tokens).where(api_tokens.c.name == name,
                                                                   api_tokens.c.revoked_at.is_(None))
                                          .values(revoked_at=now))
        return bool(result.rowcount)

    # -- one-time sign-in links ------------------------------------------------------------------
    async def add_login(self, token_hash: str, identity: str, *, now: dt.datetime, expires_at: dt.datetime) -> None:
        await self._conn.execute(insert(web_logins).values(token_hash=token_hash, identity=identity,
                                                           created_at=now, expires_at=expires_at))

    async def use_login(self, token_hash: str, *, now: dt.datetime) -> str | None:
        """The identity of an unused, unexpired link, which is used up now; None otherwise. One
        UPDATE … WHERE used_at IS NULL: two instances redeeming the same link at once cannot both win."""
        row = (await self._conn.execute(select(web_logins.c.id, web_logins.c.identity).where(
            web_logins.c.token_hash == token_hash, web_logins.c.used_at.is_(None),
            web_logins.c.expires_at > now))).first()
        if row is None:
            return None
        result = await self._conn.execute(update(web_logins).where(web_logins.c.id == row.id,
                                                                   web_logins.c.used_at.is_(None))
                                          .values(used_at=now))
        return str(row.identity) if result.rowcount else None

    # -- staff sessions --------------------------------------------------------------------------
    async def add_session(self, token_hash: str, identity: str, csrf: str, *, now: dt.datetime,
                          expires_at: dt.datetime) -> None:
        await self._conn.execute(insert(web_sessions).values(token_hash=token_hash, identity=identity, csrf=csrf,
                                                             created_at=now, expires_at=expires_at))

    async def session(self, token_hash: str, *, now: dt.datetime) -> WebSession | None:
        """The live session with this hash, or None (expired, revoked, unknown)."""
        row = (await self._conn.execute(select(web_sessions).where(
            web_sessions.c.token_hash == token_hash, web_sessions.c.revoked_at.is_(None),
            web_sessions.c.expires_at > now))).first()
        if row is None:
            return None
        return WebSession(identity=row.identity, csrf=row.csrf, expires_at=row.expires_at)

    async def end_session(self, token_hash: str, *, now: dt.datetime) -> None:
        await self._conn.execute(update(web_sessions).where(web_sessions.c.token_hash == token_hash)
                                 .values(revoked_at=now))

    async def end_sessions_of(self, identity: str, *, now: dt.datetime) -> int:
        """Revoke every live session of `identity` (e.g. removed from the staff)."""
        result = await self._conn.execute(update(web_sessions).where(web_sessions.c.identity == identity,
                                                                     web_sessions.c.revoked_at.is_(None))
                                          .values(revoked_at=now))
        return int(result.rowcount or 0)

    # -- rate counts -----------------------------------------------------------------------------
    async def hit(self, key: str, *, now: dt.datetime, window: dt.timedelta) -> int:
        """Count one event for `key` at `now`; how many it has within `window` (this one included).
        Older events of the key are forgotten."""
        await self._conn.execute(delete(rate_events).where(rate_events.c.key == key,
                                                           rate_events.c.at <= now - window))
        await self._conn.execute(insert(rate_events).values(key=key[:400], at=now))
        count = (await self._conn.execute(select(func.count()).select_from(rate_events).where(
            rate_events.c.key == key[:400], rate_events.c.at > now - window))).scalar()
        return int(count or 0)
