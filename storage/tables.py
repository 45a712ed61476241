"""The SQLAlchemy Core schema. The Alembic migrations in `storage/migrations/versions` create the
same tables; keep both in step (autogenerate compares against `metadata`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Table, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from domain.indicator_days import COUNTS as INDICATOR_COUNTS

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An instant stored as naive UTC, returned as aware UTC.

    SQLite's DateTime silently drops offsets, and PostgreSQL `timestamp` wants naive values, so
    every aware value is converted to UTC first. A naive value is taken to be UTC already."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.utcoffset() is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """On SQLite the stored text is parsed straight to an aware instant: a page of PQRs with
        their messages and events reads hundreds of instants, and parsing, then `replace`, cost
        several times more (`datetime.replace` alone ~0.7 µs)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        fallback = super().result_processor(dialect, coltype)
        parse = dt.datetime.fromisoformat

        def process(value: str | None) -> Any:
            if value is None:
                return None
            try:
                return parse(value + "+00:00")
            except (TypeError, ValueError):     # not SQLAlchemy's own text (written by hand)
                return fallback(value) if fallback is not None else value
        return process


# SQLite only auto-increments an INTEGER PRIMARY KEY, so big ids are BIGINT on PostgreSQL only.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json: Any = JSON().with_variant(JSONB(), "postgresql")


customers = Table(
    "customers", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("telegram_chat_id", BigInteger),
    Column("phone", String(50)),
    Column("language", String(10), nullable=False, server_default="es"),
    Column("unreachable", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime, nullable=False),
)

customer_identities = Table(
    "customer_identities", metadata,
    Column("id", Integer, primary_key=True),
    Column("identity", String(400), nullable=False, unique=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
           index=True),
)

pqrs = Table(
    "pqrs", metadata,
    Column("id", BigId, primary_key=True),
    Column("radicado", String(64), nullable=False, unique=True),
    Column("year", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("status", String(40), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("channel", String(40), nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("subject", Text, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("original_due_at", UtcDateTime, nullable=False),
    Column("due_rule", String(200), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("first_response_due_at", UtcDateTime),
    Column("first_response_at", UtcDateTime),
    Column("assignee", String(200)),
    Column("area", String(200)),
    Column("contract", String(200)),
    Column("extended", Boolean, nullable=False, server_default=text("false")),
    Column("closed_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    # The contract clock's pause (migration 0005): the legal deadline, which never pauses (NULL
    # in rows older than 0005 means due_at), and the contract time kept while waiting.
    Column("legal_due_at", UtcDateTime),
    Column("pause_unit", String(10)),
    Column("pause_remaining", Float),
    # Indicators (migration 0007): the cause, the contract's client, the ANS resolution deadline,
    # and the business times measured when reached (domain `Pqr.measure`).
    Column("cause", String(60)),
    Column("client", String(200)),
    Column("contract_due_at", UtcDateTime),
    Column("first_response_hours", Float),
    Column("resolution_hours", Float),
    Column("resolution_days", Integer),
    Index("ix_pqrs_received_at", "received_at"),
    Index("ix_pqrs_client_received_at", "client", "received_at"),
    # The indicators' bounded scans (migration 0012; storage.repositories.indicators): the PQRs
    # closed at or after a period's end, read from the index alone (backlog, late at the end);
    # the first responses of a period with their measured hours (medians without the rows); the
    # ANS resolution deadlines of a period with the closing that settles them.
    Index("ix_pqrs_closed_cover", "closed_at", "received_at", "due_at", "legal_due_at", "client"),
    Index("ix_pqrs_first_response_cover", "first_response_at", "first_response_hours", "client", "received_at",
          sqlite_where=text("first_response_at IS NOT NULL"), postgresql_where=text("first_response_at IS NOT NULL")),
    Index("ix_pqrs_contract_due_closed", "contract_due_at", "closed_at"),
    Index("ix_pqrs_unanswered_first_due", "first_response_due_at", "contract", "client", "type", "first_response_at",
          sqlite_where=text("first_response_at IS NULL"), postgresql_where=text("first_response_at IS NULL")),
    # Partial indexes: only open PQRs are queried by deadline, assignee and area at scale.
    Index("ix_pqrs_open_due_at", "due_at", sqlite_where=text("is_open = 1"),
          postgresql_where=text("is_open")),
    Index("ix_pqrs_open_assignee", "assignee", sqlite_where=text("is_open = 1"),
          postgresql_where=text("is_open")),
    Index("ix_pqrs_open_area", "area", sqlite_where=text("is_open = 1"),
          postgresql_where=text("is_open")),
    Index("ix_pqrs_open_received", "received_at", "due_at", "client", "is_open", sqlite_where=text("is_open = 1"),
          postgresql_where=text("is_open")),
    Index("ix_pqrs_open_legal_due", "legal_due_at", "type", "channel", "area", "cause", "client", "is_open",
          sqlite_where=text("is_open = 1"),
          postgresql_where=text("is_open")),
    Index("ix_pqrs_open_contract_due", "contract_due_at", "contract", "client", "type", "is_open",
          sqlite_where=text("is_open = 1"),
          postgresql_where=text("is_open")),
)

# A client's first responses of a period, in order (the client slice's medians; migration 0012).
Index("ix_pqrs_client_first_response", func.lower(pqrs.c.client), pqrs.c.first_response_at,
      pqrs.c.first_response_hours, sqlite_where=text("first_response_at IS NOT NULL"),
      postgresql_where=text("first_response_at IS NOT NULL"))

messages = Table(
    "messages", metadata,
    Column("id", BigId, primary_key=True),
    Column("pqr_id", BigId, ForeignKey("pqrs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("direction", String(10), nullable=False),
    Column("channel", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("author", String(400)),
    Column("external_id", String(998), index=True),
)

attachments = Table(
    "attachments", metadata,
    Column("id", BigId, primary_key=True),
    Column("message_id", BigId, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("filename", String(400), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

raw_messages = Table(
    "raw_messages", metadata,
    Column("id", BigId, primary_key=True),
    Column("channel", String(40), nullable=False),
    Column("external_id", String(998), index=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("pqr_id", BigId, ForeignKey("pqrs.id", ondelete="SET NULL"), index=True),
    Column("disposition", String(40), nullable=False, server_default="filed"),
    Column("reason", Text),
)

events = Table(
    "events", metadata,
    Column("id", BigId, primary_key=True),
    Column("pqr_id", BigId, ForeignKey("pqrs.id"), index=True),   # kept forever: no cascade
    Column("penalty_id", Integer, index=True),
    Column("kind", String(60), nullable=False),
    Column("actor", String(400), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("from_state", Text),
    Column("to_state", Text),
    Column("reason", Text),
    Column("data", Json, nullable=False),
    Index("ix_events_kind_at", "kind", "at"),
    Index("ix_events_kind_state_at", "kind", "to_state", "at"),     # reopenings of a period (0012)
)

radicado_counters = Table(
    "radicado_counters", metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", Integer, nullable=False, server_default="0"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", BigId, primary_key=True),
    Column("channel", String(40), nullable=False),
    Column("destination", String(400), nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("last_error", Text),
    Column("dedupe_key", String(400), unique=True),
    Column("pqr_id", BigId, ForeignKey("pqrs.id", ondelete="SET NULL"), index=True),
    Column("claimed_until", UtcDateTime),
    # The Message-ID an outgoing mail carries (chosen at queue time): a customer's answer naming
    # it in In-Reply-To/References finds the PQR, and only a whole stored id does.
    Column("message_id", String(998), index=True),
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

inbound_keys = Table(
    "inbound_keys", metadata,
    Column("id", BigId, primary_key=True),
    Column("channel", String(40), nullable=False),
    Column("key", String(998), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("pqr_id", BigId, ForeignKey("pqrs.id", ondelete="SET NULL")),
    UniqueConstraint("channel", "key", name="uq_inbound_keys_channel_key"),
)

# One row per acknowledgment sent, per key it counts against (`client:IP`, `envelope:ADDRESS`,
# `from:ADDRESS`): the limit on acknowledgments holds across instances.
ack_counts = Table(
    "ack_counts", metadata,
    Column("id", BigId, primary_key=True),
    Column("key", String(400), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_ack_counts_key_at", "key", "at"),
)

# -- scheduling: leader leases and the alerts already queued ------------------------------------

leases = Table(
    "leases", metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

sla_alerts = Table(
    "sla_alerts", metadata,
    Column("pqr_id", BigId, ForeignKey("pqrs.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    # An extension or a reopening moves due_at, which re-arms the alerts of the PQR.
    Column("due_at", UtcDateTime, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# -- telegram: conversations in progress and the bot messages that speak about a PQR -------------

telegram_conversations = Table(
    "telegram_conversations", metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, nullable=False),
    Column("language", String(10), nullable=False),
    Column("step", String(20), nullable=False),
    Column("data", Json, nullable=False),
    Column("last_update_id", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False, index=True),
)

telegram_messages = Table(
    "telegram_messages", metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("pqr_id", BigId, ForeignKey("pqrs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# -- penalties: the cases, the areas' evidence (files with their sha256) and contract snapshots ----

penalties = Table(
    "penalties", metadata,
    Column("id", Integer, primary_key=True),
    Column("client", String(200), nullable=False),
    Column("category", String(40), nullable=False),
    # The decimal string exactly as given ("1500000.50"): money never goes through float.
    Column("amount", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(40), nullable=False),
    Column("decision", String(40)),
    Column("area", String(200), nullable=False),
    Column("pqr", String(64)),
    Column("contract", String(200)),
    Column("description", Text),
    Column("registered_at", UtcDateTime, nullable=False, index=True),
    Column("decided_by", String(400)),
    Column("decided_at", UtcDateTime),
    Column("decision_reason", Text),
    Column("updated_at", UtcDateTime, nullable=False),
)

penalty_evidence = Table(
    "penalty_evidence", metadata,
    Column("id", Integer, primary_key=True),
    Column("penalty_id", Integer, ForeignKey("penalties.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("author", String(400), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

penalty_evidence_files = Table(
    "penalty_evidence_files", metadata,
    Column("id", Integer, primary_key=True),
    Column("evidence_id", Integer, ForeignKey("penalty_evidence.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("filename", String(400), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# `pqrbot contracts reload` stores the validated contract files here; every running instance
# picks up the newest snapshot on its next use.
contract_snapshots = Table(
    "contract_snapshots", metadata,
    Column("id", Integer, primary_key=True),
    Column("loaded_at", UtcDateTime, nullable=False),
    Column("source", Text, nullable=False),
    Column("data", Json, nullable=False),
)

# The files of scheduled reports (XLSX, PDF), generated once by the scheduler's leader; the
# outbox rows that deliver them name them by id, so a payload never carries the bytes.
report_files = Table(
    "report_files", metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(400), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# -- the web: API tokens, one-time sign-in links, staff sessions, per-key rate counts (0009) -------

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),   # sha256 hex; the token is shown once
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
)

web_logins = Table(
    "web_logins", metadata,
    Column("id", BigId, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("identity", String(400), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id", BigId, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("identity", String(400), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

rate_events = Table(
    "rate_events", metadata,
    Column("id", BigId, primary_key=True),
    Column("key", String(400), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_rate_events_key_at", "key", "at"),
)

# -- the durable inbox of inbound mail and the IMAP accounts' positions (0010) ---------------------

inbox = Table(
    "inbox", metadata,
    Column("id", BigId, primary_key=True),
    Column("source", String(10), nullable=False),            # smtp | imap
    Column("account", String(100)),                          # the IMAP account's name
    Column("received_at", UtcDateTime, nullable=False),
    Column("mail_from", String(400)),                         # the envelope sender ('' for <>)
    Column("rcpt_tos", Json, nullable=False),
    Column("client", String(100)),                            # the SMTP client's address
    Column("message_id", String(998)),
    Column("subject", Text),
    Column("data", LargeBinary, nullable=False),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("reason", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("claimed_until", UtcDateTime),
    Column("radicado", String(64)),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_inbox_status_next_attempt_at", "status", "next_attempt_at"),
)

imap_positions = Table(
    "imap_positions", metadata,
    Column("account", String(100), primary_key=True),
    Column("folder", String(200), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# -- daily indicator roll-ups (migration 0012; domain.indicator_days) ----------------------------

indicator_days = Table(
    "indicator_days", metadata,
    Column("slice", String(10), primary_key=True),            # "" | client | area
    Column("slice_key", String(200), primary_key=True),       # the client or area, lower-cased
    Column("dim", String(10), primary_key=True),              # type | channel | area | cause | client
    Column("day", Date, primary_key=True),                    # the local day
    Column("key", String(200), primary_key=True),             # its value ("" for none)
    *[Column(name, Integer, nullable=False, server_default="0") for name in INDICATOR_COUNTS],
)

indicator_resolution_days = Table(
    "indicator_resolution_days", metadata,
    Column("slice", String(10), primary_key=True),
    Column("slice_key", String(200), primary_key=True),
    Column("day", Date, primary_key=True),                    # the local day of the closing
    Column("days", Integer, primary_key=True),                # the resolution time, business days
    Column("count", Integer, nullable=False),
)

indicator_rollup = Table(
    "indicator_rollup", metadata,                             # one row: how the roll-ups were built
    Column("id", Integer, primary_key=True),
    Column("timezone", String(100), nullable=False),
    Column("built_at", UtcDateTime, nullable=False),
)

# -- satisfaction surveys (migration 0013; bot.surveys) ------------------------------------------

# One row per survey sent: a CSAT after a PQR closed (one per PQR: the unique kind × pqr_id) or
# an NPS of a campaign. The answer is kept on the row (single use: answered_at); the link's token
# only as its sha256.
surveys = Table(
    "surveys", metadata,
    Column("id", BigId, primary_key=True),
    Column("kind", String(10), nullable=False),                 # csat | nps
    Column("campaign", String(100)),
    Column("segment", String(20)),                             # b2b | b2c
    Column("client", String(200)),
    Column("contact", String(400), nullable=False),            # email:… | telegram:…
    Column("channel", String(40), nullable=False),
    Column("destination", String(400), nullable=False),
    Column("language", String(10), nullable=False),
    Column("pqr_id", BigId, ForeignKey("pqrs.id", ondelete="SET NULL")),
    Column("token_hash", String(64), unique=True),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime),
    Column("score", Integer),
    Column("comment", Text),
    Column("comment_until", UtcDateTime),                      # Telegram: the next message is the comment
    Column("followup_pqr_id", BigId, ForeignKey("pqrs.id", ondelete="SET NULL")),
    UniqueConstraint("kind", "pqr_id", name="uq_surveys_kind_pqr_id"),
    Index("ix_surveys_contact_sent_at", "contact", "sent_at"),
    Index("ix_surveys_answered_at", "answered_at"),
    Index("ix_surveys_sent_at", "sent_at"),
)

# Consent and opt-outs by contact (an identity as in `surveys.contact`).
survey_contacts = Table(
    "survey_contacts", metadata,
    Column("contact", String(400), primary_key=True),
    Column("consent_source", String(40)),
    Column("consented_at", UtcDateTime),
    Column("opted_out_at", UtcDateTime),
)
