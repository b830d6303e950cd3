"""ticket_ratings: one index leading with ticket_id, not two

The unique key (ticket_id, user_id, round) already finds a ticket's ratings and serves the
foreign key to tickets; the index on ticket_id alone only made every rating write a second
B-tree entry for nothing.

Revision ID: c3d4000000b2
Revises: b1c2000000a1
Create Date: 2026-12-02 00:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3d4000000b2'
down_revision = 'b1c2000000a1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_ratings_ticket_id')


def downgrade():
    with op.batch_alter_table('ticket_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_ratings_ticket_id', ['ticket_id'], unique=False)
