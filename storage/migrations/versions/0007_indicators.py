"""Indicators: each PQR's cause, the client of its contract, the contract's resolution deadline
(ANS), and the business times measured when reached; indexes for the period scans.
Existing rows whose due date a contract set get that date as their ANS deadline; their client
and measures stay empty (the indicators service measures such rows when it reads them).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pqrs", sa.Column("cause", sa.String(length=60), nullable=True))
    op.add_column("pqrs", sa.Column("client", sa.String(length=200), nullable=True))
    op.add_column("pqrs", sa.Column("contract_due_at", sa.DateTime(), nullable=True))
    op.add_column("pqrs", sa.Column("first_response_hours", sa.Float(), nullable=True))
    op.add_column("pqrs", sa.Column("resolution_hours", sa.Float(), nullable=True))
    op.add_column("pqrs", sa.Column("resolution_days", sa.Integer(), nullable=True))
    op.execute("UPDATE pqrs SET contract_due_at = due_at WHERE due_rule LIKE 'contrato:%' AND pause_remaining IS NULL")
    op.create_index("ix_pqrs_received_at", "pqrs", ["received_at"])
    op.create_index("ix_pqrs_closed_at", "pqrs", ["closed_at"])
    op.create_index("ix_pqrs_client_received_at", "pqrs", ["client", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_pqrs_client_received_at", table_name="pqrs")
    op.drop_index("ix_pqrs_closed_at", table_name="pqrs")
    op.drop_index("ix_pqrs_received_at", table_name="pqrs")
    for column in ("resolution_days", "resolution_hours", "first_response_hours", "contract_due_at",
                   "client", "cause"):
        op.drop_column("pqrs", column)
