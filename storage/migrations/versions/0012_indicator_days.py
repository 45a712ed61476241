"""Daily indicator roll-ups, maintained in the transactions that store PQRs
(`domain.indicator_days`), and the indexes that bound the indicators' remaining scans to a
period's rows. Old rows get their legal deadline written out (NULL meant `due_at` since 0005), so
the open PQRs past it are found by an index. The roll-ups are filled when the application first
starts on this schema (`SqlIndicatorDays.ensure`): they are counted by local day, and only the
configuration knows the time zone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = ("filed", "answered", "on_time", "fr_done", "fr_met", "res_done", "res_met", "open", "open_due",
           "extensions", "reopened")


def upgrade() -> None:
    op.execute("UPDATE pqrs SET legal_due_at = due_at WHERE legal_due_at IS NULL")
    op.drop_index("ix_pqrs_closed_at", table_name="pqrs")
    op.drop_index("ix_pqrs_first_response_at", table_name="pqrs")
    op.create_index("ix_pqrs_closed_cover", "pqrs", ["closed_at", "received_at", "due_at", "legal_due_at", "client"])
    op.create_index("ix_pqrs_first_response_cover", "pqrs",
                    ["first_response_at", "first_response_hours", "client", "received_at"],
                    sqlite_where=sa.text("first_response_at IS NOT NULL"),
                    postgresql_where=sa.text("first_response_at IS NOT NULL"))
    op.create_index("ix_pqrs_client_first_response", "pqrs",
                    [sa.text("lower(client)"), "first_response_at", "first_response_hours"],
                    sqlite_where=sa.text("first_response_at IS NOT NULL"),
                    postgresql_where=sa.text("first_response_at IS NOT NULL"))
    op.create_index("ix_pqrs_contract_due_closed", "pqrs", ["contract_due_at", "closed_at"])
    op.create_index("ix_pqrs_unanswered_first_due", "pqrs",
                    ["first_response_due_at", "contract", "client", "type", "first_response_at"],
                    sqlite_where=sa.text("first_response_at IS NULL"),
                    postgresql_where=sa.text("first_response_at IS NULL"))
    op.create_index("ix_pqrs_open_received", "pqrs", ["received_at", "due_at", "client", "is_open"],
                    sqlite_where=sa.text("is_open = 1"), postgresql_where=sa.text("is_open"))
    op.create_index("ix_pqrs_open_legal_due", "pqrs",
                    ["legal_due_at", "type", "channel", "area", "cause", "client", "is_open"],
                    sqlite_where=sa.text("is_open = 1"), postgresql_where=sa.text("is_open"))
    op.create_index("ix_pqrs_open_contract_due", "pqrs", ["contract_due_at", "contract", "client", "type", "is_open"],
                    sqlite_where=sa.text("is_open = 1"), postgresql_where=sa.text("is_open"))
    op.create_index("ix_events_kind_state_at", "events", ["kind", "to_state", "at"])
    op.create_table(
        "indicator_days",
        sa.Column("slice", sa.String(10), nullable=False),
        sa.Column("slice_key", sa.String(200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(10), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in _COUNTS],
        sa.PrimaryKeyConstraint("slice", "slice_key", "dim", "day", "key", name="pk_indicator_days"),
    )
    op.create_table(
        "indicator_resolution_days",
        sa.Column("slice", sa.String(10), nullable=False),
        sa.Column("slice_key", sa.String(200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("slice", "slice_key", "day", "days", name="pk_indicator_resolution_days"),
    )
    op.create_table(
        "indicator_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(100), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_indicator_rollup"),
    )


def downgrade() -> None:
    op.drop_table("indicator_rollup")
    op.drop_table("indicator_resolution_days")
    op.drop_table("indicator_days")
    op.drop_index("ix_events_kind_state_at", table_name="events")
    for name in ("ix_pqrs_open_contract_due", "ix_pqrs_open_legal_due", "ix_pqrs_open_received",
                 "ix_pqrs_unanswered_first_due", "ix_pqrs_contract_due_closed", "ix_pqrs_client_first_response",
                 "ix_pqrs_first_response_cover",
                 "ix_pqrs_closed_cover"):
        op.drop_index(name, table_name="pqrs")
    op.create_index("ix_pqrs_first_response_at", "pqrs", ["first_response_at"])
    op.create_index("ix_pqrs_closed_at", "pqrs", ["closed_at"])
