"""The durable inbox: raw inbound mail is committed here first (SMTP answers 250 then, an IMAP
message is moved then), and the intake worker files it; and each IMAP account's position
(UIDVALIDITY and the last UID taken) per folder.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("mail_from", sa.String(length=400), nullable=True),
        sa.Column("rcpt_tos", _JSON, nullable=False),
        sa.Column("client", sa.String(length=100), nullable=True),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("radicado", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
    )
    op.create_index("ix_inbox_status_next_attempt_at", "inbox", ["status", "next_attempt_at"])
    op.create_table(
        "imap_positions",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "folder", name="pk_imap_positions"),
    )


def downgrade() -> None:
    op.drop_table("imap_positions")
    op.drop_index("ix_inbox_status_next_attempt_at", table_name="inbox")
    op.drop_table("inbox")
