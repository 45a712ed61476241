"""Initial schema: customers, PQRs, messages, attachments, raw mail, events, radicado
counters, outbox, inbound keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('telegram_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('language', sa.String(length=10), server_default='es', nullable=False),
    sa.Column('unreachable', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    op.create_table('radicado_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_radicado_counters'))
    )
    op.create_table('customer_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=400), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_identities_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_identities')),
    sa.UniqueConstraint('identity', name=op.f('uq_customer_identities_identity'))
    )
    op.create_index(op.f('ix_customer_identities_customer_id'), 'customer_identities', ['customer_id'], unique=False)

    op.create_table('pqrs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('radicado', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('original_due_at', sa.DateTime(), nullable=False),
    sa.Column('due_rule', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('first_response_due_at', sa.DateTime(), nullable=True),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('area', sa.String(length=200), nullable=True),
    sa.Column('contract', sa.String(length=200), nullable=True),
    sa.Column('extended', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_pqrs_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pqrs')),
    sa.UniqueConstraint('radicado', name=op.f('uq_pqrs_radicado'))
    )
    op.create_index(op.f('ix_pqrs_customer_id'), 'pqrs', ['customer_id'], unique=False)
    op.create_index('ix_pqrs_open_area', 'pqrs', ['area'], unique=False, sqlite_where=sa.text('is_open = 1'), postgresql_where=sa.text('is_open'))
    op.create_index('ix_pqrs_open_assignee', 'pqrs', ['assignee'], unique=False, sqlite_where=sa.text('is_open = 1'), postgresql_where=sa.text('is_open'))
    op.create_index('ix_pqrs_open_due_at', 'pqrs', ['due_at'], unique=False, sqlite_where=sa.text('is_open = 1'), postgresql_where=sa.text('is_open'))

    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('pqr_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('penalty_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('actor', sa.String(length=400), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('from_state', sa.Text(), nullable=True),
    sa.Column('to_state', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['pqr_id'], ['pqrs.id'], name=op.f('fk_events_pqr_id_pqrs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    op.create_index('ix_events_kind_at', 'events', ['kind', 'at'], unique=False)
    op.create_index(op.f('ix_events_penalty_id'), 'events', ['penalty_id'], unique=False)
    op.create_index(op.f('ix_events_pqr_id'), 'events', ['pqr_id'], unique=False)

    op.create_table('inbound_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=998), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('pqr_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['pqr_id'], ['pqrs.id'], name=op.f('fk_inbound_keys_pqr_id_pqrs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_keys')),
    sa.UniqueConstraint('channel', 'key', name='uq_inbound_keys_channel_key')
    )
    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('pqr_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('author', sa.String(length=400), nullable=True),
    sa.Column('external_id', sa.String(length=998), nullable=True),
    sa.ForeignKeyConstraint(['pqr_id'], ['pqrs.id'], name=op.f('fk_messages_pqr_id_pqrs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    op.create_index(op.f('ix_messages_external_id'), 'messages', ['external_id'], unique=False)
    op.create_index(op.f('ix_messages_pqr_id'), 'messages', ['pqr_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('destination', sa.String(length=400), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=400), nullable=True),
    sa.Column('pqr_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['pqr_id'], ['pqrs.id'], name=op.f('fk_outbox_pqr_id_pqrs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key'))
    )
    op.create_index(op.f('ix_outbox_pqr_id'), 'outbox', ['pqr_id'], unique=False)
    op.create_index('ix_outbox_status_next_attempt_at', 'outbox', ['status', 'next_attempt_at'], unique=False)

    op.create_table('raw_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=998), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('pqr_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('disposition', sa.String(length=40), server_default='filed', nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['pqr_id'], ['pqrs.id'], name=op.f('fk_raw_messages_pqr_id_pqrs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_messages'))
    )
    op.create_index(op.f('ix_raw_messages_external_id'), 'raw_messages', ['external_id'], unique=False)
    op.create_index(op.f('ix_raw_messages_pqr_id'), 'raw_messages', ['pqr_id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=400), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_attachments_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    op.create_index(op.f('ix_attachments_message_id'), 'attachments', ['message_id'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_attachments_message_id'), table_name='attachments')

    op.drop_table('attachments')
    op.drop_index(op.f('ix_raw_messages_pqr_id'), table_name='raw_messages')
    op.drop_index(op.f('ix_raw_messages_external_id'), table_name='raw_messages')

    op.drop_table('raw_messages')
    op.drop_index('ix_outbox_status_next_attempt_at', table_name='outbox')
    op.drop_index(op.f('ix_outbox_pqr_id'), table_name='outbox')

    op.drop_table('outbox')
    op.drop_index(op.f('ix_messages_pqr_id'), table_name='messages')
    op.drop_index(op.f('ix_messages_external_id'), table_name='messages')

    op.drop_table('messages')
    op.drop_table('inbound_keys')
    op.drop_index(op.f('ix_events_pqr_id'), table_name='events')
    op.drop_index(op.f('ix_events_penalty_id'), table_name='events')
    op.drop_index('ix_events_kind_at', table_name='events')

    op.drop_table('events')
    op.drop_index('ix_pqrs_open_due_at', table_name='pqrs')
    op.drop_index('ix_pqrs_open_assignee', table_name='pqrs')
    op.drop_index('ix_pqrs_open_area', table_name='pqrs')
    op.drop_index(op.f('ix_pqrs_customer_id'), table_name='pqrs')

    op.drop_table('pqrs')
    op.drop_index(op.f('ix_customer_identities_customer_id'), table_name='customer_identities')

    op.drop_table('customer_identities')
    op.drop_table('radicado_counters')
    op.drop_table('customers')
