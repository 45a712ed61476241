"""Scheduling: leader leases for several instances, and the SLA alerts already queued.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "sla_alerts",
        sa.Column("pqr_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["pqr_id"], ["pqrs.id"], name=op.f("fk_sla_alerts_pqr_id_pqrs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pqr_id", "kind", "due_at", name=op.f("pk_sla_alerts")),
    )


def downgrade() -> None:
    op.drop_table("sla_alerts")
    op.drop_table("leases")
