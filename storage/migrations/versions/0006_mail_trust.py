"""Email threading and acknowledgments that can be trusted: the Message-ID of each outgoing mail
is stored with its outbox row (a reply joins a PQR only through a whole id we sent), and every
acknowledgment is counted against the keys it is limited by, across instances.
Existing email rows get their Message-ID from the payload they were queued with.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("message_id", sa.String(length=998), nullable=True))
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"])
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, payload FROM outbox WHERE channel = 'email'")).all()
    for row_id, payload in rows:
        data = json.loads(payload) if isinstance(payload, (str, bytes)) else payload
        message_id = data.get("message_id") if isinstance(data, dict) else None
        if isinstance(message_id, str) and message_id:
            conn.execute(sa.text("UPDATE outbox SET message_id = :m WHERE id = :i"),
                         {"m": message_id[:998], "i": row_id})
    op.create_table(
        "ack_counts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ack_counts"),
    )
    op.create_index("ix_ack_counts_key_at", "ack_counts", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_ack_counts_key_at", table_name="ack_counts")
    op.drop_table("ack_counts")
    op.drop_index("ix_outbox_message_id", table_name="outbox")
    op.drop_column("outbox", "message_id")
