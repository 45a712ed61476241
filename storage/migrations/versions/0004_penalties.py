"""Penalties: the cases, the areas' evidence and its files, and the contract snapshots that
`pqrbot contracts reload` stores for every running instance.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "penalties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=40), nullable=True),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("pqr", sa.String(length=64), nullable=True),
        sa.Column("contract", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=400), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalties")),
    )
    op.create_index(op.f("ix_penalties_registered_at"), "penalties", ["registered_at"], unique=False)
    op.create_table(
        "penalty_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("penalty_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=400), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["penalty_id"], ["penalties.id"],
                                name=op.f("fk_penalty_evidence_penalty_id_penalties"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalty_evidence")),
    )
    op.create_index(op.f("ix_penalty_evidence_penalty_id"), "penalty_evidence", ["penalty_id"], unique=False)
    op.create_table(
        "penalty_evidence_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=400), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["penalty_evidence.id"],
                                name=op.f("fk_penalty_evidence_files_evidence_id_penalty_evidence"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalty_evidence_files")),
    )
    op.create_index(op.f("ix_penalty_evidence_files_evidence_id"), "penalty_evidence_files", ["evidence_id"],
                    unique=False)
    op.create_table(
        "contract_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("contract_snapshots")
    op.drop_index(op.f("ix_penalty_evidence_files_evidence_id"), table_name="penalty_evidence_files")
    op.drop_table("penalty_evidence_files")
    op.drop_index(op.f("ix_penalty_evidence_penalty_id"), table_name="penalty_evidence")
    op.drop_table("penalty_evidence")
    op.drop_index(op.f("ix_penalties_registered_at"), table_name="penalties")
    op.drop_table("penalties")
