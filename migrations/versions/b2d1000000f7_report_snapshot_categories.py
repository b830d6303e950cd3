"""report_snapshot_categories: each unit's counters per category, frozen with its report card

The console's dashboard sums twelve frozen months for a unit's categories instead of counting
a year of live tickets.

Revision ID: b2d1000000f7
Revises: a1c0000000f6
Create Date: 2026-12-06 12:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b2d1000000f7'
down_revision = 'a1c0000000f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_snapshot_categories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('counters', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'], ),
        sa.ForeignKeyConstraint(['snapshot_id'], ['report_snapshots.id'], ),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('unit_id', 'snapshot_id', 'category_id'),
    )
    with op.batch_alter_table('report_snapshot_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_snapshot_categories_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_snapshot_categories_snapshot_id'), ['snapshot_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_snapshot_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_snapshot_categories_snapshot_id'))
        batch_op.drop_index(batch_op.f('ix_report_snapshot_categories_category_id'))
    op.drop_table('report_snapshot_categories')
