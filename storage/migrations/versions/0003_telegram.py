"""Telegram: conversations in progress (they survive a restart) and the bot messages that speak
about a PQR (a customer's reply to one joins that PQR).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_conversations",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("last_update_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_conversations")),
    )
    op.create_index(op.f("ix_telegram_conversations_updated_at"), "telegram_conversations",
                    ["updated_at"], unique=False)
    op.create_table(
        "telegram_messages",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("pqr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["pqr_id"], ["pqrs.id"], name=op.f("fk_telegram_messages_pqr_id_pqrs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "message_id", name=op.f("pk_telegram_messages")),
    )
    op.create_index(op.f("ix_telegram_messages_pqr_id"), "telegram_messages", ["pqr_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_telegram_messages_pqr_id"), table_name="telegram_messages")
    op.drop_table("telegram_messages")
    op.drop_index(op.f("ix_telegram_conversations_updated_at"), table_name="telegram_conversations")
    op.drop_table("telegram_conversations")
