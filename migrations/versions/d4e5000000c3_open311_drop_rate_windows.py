"""open311: drop open311_rate_windows (the per-key limit is counted by flask-limiter)

The per-key rate limit now lives where the app's other limits do: Redis when REDIS_URL is
set, else process memory. The table only held one-minute counters, so nothing is lost.

Revision ID: d4e5000000c3
Revises: c3d4000000b2
Create Date: 2026-12-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e5000000c3'
down_revision = 'c3d4000000b2'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('open311_rate_windows')


def downgrade():
    op.create_table('open311_rate_windows',
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('minute', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['open311_api_keys.id'], name=op.f('fk_open311_rate_windows_key_id_open311_api_keys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key_id', 'minute', name=op.f('pk_open311_rate_windows'))
    )
