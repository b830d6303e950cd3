"""media: attached_to, what took a photo (a ticket event, an opinion, a topic's stage)

A photo is taken once, by whatever domain attaches it; photos already on ticket events are
marked as taken.

Revision ID: f8b9000000e6
Revises: f7a8000000e5
Create Date: 2026-12-06 11:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f8b9000000e6'
down_revision = 'f7a8000000e5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attached_to', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_media_attached_to'), ['attached_to'], unique=False)
    op.execute("UPDATE media SET attached_to = 'ticket_event' WHERE event_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_attached_to'))
        batch_op.drop_column('attached_to')
