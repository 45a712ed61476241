"""The contract clock's pause while waiting for the customer: each PQR keeps its legal deadline
(which never pauses) beside the effective one, and the contract time kept during a pause.
Existing rows get legal_due_at = due_at (no contract pause had ever happened).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns without defaults: a plain ALTER TABLE … ADD COLUMN, on SQLite too.
    op.add_column("pqrs", sa.Column("legal_due_at", sa.DateTime(), nullable=True))
    op.add_column("pqrs", sa.Column("pause_unit", sa.String(length=10), nullable=True))
    op.add_column("pqrs", sa.Column("pause_remaining", sa.Float(), nullable=True))
    op.execute("UPDATE pqrs SET legal_due_at = due_at")


def downgrade() -> None:
    # A plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): no batch copy of the table, whose
    # DROP TABLE would cascade to the messages of every PQR under foreign_keys=ON.
    op.drop_column("pqrs", "pause_remaining")
    op.drop_column("pqrs", "pause_unit")
    op.drop_column("pqrs", "legal_due_at")
