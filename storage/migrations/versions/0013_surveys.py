"""Satisfaction surveys (bot.surveys): the surveys sent with their answers (single use, the
link's token kept as its sha256 only), and consent and opt-outs by contact.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("campaign", sa.String(length=100), nullable=True),
        sa.Column("segment", sa.String(length=20), nullable=True),
        sa.Column("client", sa.String(length=200), nullable=True),
        sa.Column("contact", sa.String(length=400), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("destination", sa.String(length=400), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("pqr_id", _ID, nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("comment_until", sa.DateTime(), nullable=True),
        sa.Column("followup_pqr_id", _ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_surveys"),
        sa.ForeignKeyConstraint(["pqr_id"], ["pqrs.id"], name="fk_surveys_pqr_id_pqrs", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["followup_pqr_id"], ["pqrs.id"], name="fk_surveys_followup_pqr_id_pqrs",
                                ondelete="SET NULL"),
        sa.UniqueConstraint("token_hash", name="uq_surveys_token_hash"),
        sa.UniqueConstraint("kind", "pqr_id", name="uq_surveys_kind_pqr_id"),
    )
    op.create_index("ix_surveys_contact_sent_at", "surveys", ["contact", "sent_at"])
    op.create_index("ix_surveys_answered_at", "surveys", ["answered_at"])
    op.create_index("ix_surveys_sent_at", "surveys", ["sent_at"])
    op.create_table(
        "survey_contacts",
        sa.Column("contact", sa.String(length=400), nullable=False),
        sa.Column("consent_source", sa.String(length=40), nullable=True),
        sa.Column("consented_at", sa.DateTime(), nullable=True),
        sa.Column("opted_out_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("contact", name="pk_survey_contacts"),
    )


def downgrade() -> None:
    op.drop_table("survey_contacts")
    op.drop_index("ix_surveys_sent_at", table_name="surveys")
    op.drop_index("ix_surveys_answered_at", table_name="surveys")
    op.drop_index("ix_surveys_contact_sent_at", table_name="surveys")
    op.drop_table("surveys")
