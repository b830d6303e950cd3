"""open311 api keys and rate-limit windows

Revision ID: 0311000000a1
Revises: 9394bf5b5e59
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import server.timeutil


# revision identifiers, used by Alembic.
revision = '0311000000a1'
down_revision = '9394bf5b5e59'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('open311_api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', server.timeutil.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', server.timeutil.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_open311_api_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_open311_api_keys_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_open311_api_keys_name')),
    sa.UniqueConstraint('user_id', name=op.f('uq_open311_api_keys_user_id'))
    )
    op.create_table('open311_rate_windows',
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('minute', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['open311_api_keys.id'], name=op.f('fk_open311_rate_windows_key_id_open311_api_keys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key_id', 'minute', name=op.f('pk_open311_rate_windows'))
    )


def downgrade():
    op.drop_table('open311_rate_windows')
    op.drop_table('open311_api_keys')
