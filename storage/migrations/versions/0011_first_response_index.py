"""The first-response times of a period are read by `first_response_at`: index it (the dashboard's
year scanned the whole table without it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_pqrs_first_response_at", "pqrs", ["first_response_at"])


def downgrade() -> None:
    op.drop_index("ix_pqrs_first_response_at", table_name="pqrs")
