"""report cards: frozen snapshots (monthly supervision, bulletins), their unit rows, and
an index on tickets (unit_id, created_at) for a unit's tickets of a period

Revision ID: 5a7500000001
Revises: 9394bf5b5e59
Create Date: 2026-11-23 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import server.timeutil


# revision identifiers, used by Alembic.
revision = '5a7500000001'
down_revision = '9394bf5b5e59'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('first_month', sa.String(length=7), nullable=False),
    sa.Column('last_month', sa.String(length=7), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('starts_at', server.timeutil.UTCDateTime(), nullable=False),
    sa.Column('ends_at', server.timeutil.UTCDateTime(), nullable=False),
    sa.Column('as_of', server.timeutil.UTCDateTime(), nullable=False),
    sa.Column('min_tickets', sa.Integer(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('published_at', server.timeutil.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('monthly', 'bulletin')", name=op.f('ck_report_snapshots_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_snapshots')),
    sa.UniqueConstraint('kind', 'first_month', 'last_month', name=op.f('uq_report_snapshots_kind_first_month_last_month'))
    )
    with op.batch_alter_table('report_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_report_snapshots_kind_id', ['kind', 'id'], unique=False)

    op.create_table('report_snapshot_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('unit_name', sa.String(length=128), nullable=False),
    sa.Column('unit_kind', sa.String(length=20), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('withdrawn_early', sa.Integer(), nullable=False),
    sa.Column('responded_in_time', sa.Integer(), nullable=False),
    sa.Column('not_to_resolve', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('resolved_on_time', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('basically_satisfied', sa.Integer(), nullable=False),
    sa.Column('dissatisfied', sa.Integer(), nullable=False),
    sa.Column('unrated', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.Column('redo', sa.Integer(), nullable=False),
    sa.Column('responded', sa.Integer(), nullable=False),
    sa.Column('respond_us', sa.BigInteger(), nullable=False),
    sa.Column('resolve_us', sa.BigInteger(), nullable=False),
    sa.Column('median_response_us', sa.BigInteger(), nullable=True),
    sa.Column('median_resolution_us', sa.BigInteger(), nullable=True),
    sa.Column('score', sa.Numeric(precision=9, scale=6, asdecimal=False), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('ranked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['report_snapshots.id'], name=op.f('fk_report_snapshot_units_snapshot_id_report_snapshots')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_report_snapshot_units_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_snapshot_units')),
    sa.UniqueConstraint('snapshot_id', 'unit_id', name=op.f('uq_report_snapshot_units_snapshot_id_unit_id'))
    )
    with op.batch_alter_table('report_snapshot_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_snapshot_units_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_unit_id_created_at', ['unit_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_unit_id_created_at')

    with op.batch_alter_table('report_snapshot_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_snapshot_units_unit_id'))

    op.drop_table('report_snapshot_units')
    with op.batch_alter_table('report_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_report_snapshots_kind_id')

    op.drop_table('report_snapshots')
